{#-
    WHO Child Growth Standards 2006, length/height-for-age (TB/U). The reference is the seed who_lhfa_lms
    (L, M, S by sex and completed month 0-60: length lying below 24 months, height standing from 24 months).
-#}

{#-
    The length/height to compare with the table, in cm (WHO 2006 technical report, ch. 7): the 0-23-month table
    is for length lying (terlentang), the 24-60-month table for height standing (berdiri); standing height is on
    average 0.7 cm less than lying length. A child under 24 months measured standing gets +0.7 cm, a child of 24
    months or more measured lying gets -0.7 cm. An unknown cara_ukur is taken as the right one for the age.
-#}
{%- macro who_tinggi_terkoreksi(tinggi_cm, umur_bulan, cara_ukur) -%}
    (case
        when {{ umur_bulan }} < 24 and {{ cara_ukur }} = 'berdiri' then {{ tinggi_cm }} + 0.7
        when {{ umur_bulan }} >= 24 and {{ cara_ukur }} = 'terlentang' then {{ tinggi_cm }} - 0.7
        else {{ tinggi_cm }}
    end)
{%- endmacro -%}

{#-
    The LMS z-score of a measurement x: ((x / M)^L - 1) / (L * S), and ln(x / M) / S when L = 0. All four
    arguments are SQL expressions; the result is a double, NULL when any input is NULL. The WHO restricted
    adjustment beyond +-3 SD applies to weight-based indicators only, not to length/height-for-age (L = 1 there).
-#}
{%- macro who_lms_zscore(x, l, m, s) -%}
    (case
        when {{ l }} = 0 then ln(cast({{ x }} as {{ type_double() }}) / {{ m }}) / {{ s }}
        else (power(cast({{ x }} as {{ type_double() }}) / {{ m }}, {{ l }}) - 1) / ({{ l }} * {{ s }})
    end)
{%- endmacro -%}

{#- Category of a height-for-age z-score (Permenkes 2/2020): sangat_pendek < -3 <= pendek < -2 <= normal <= 3 < tinggi. -#}
{%- macro kategori_tb_u(haz) -%}
    (case
        when {{ haz }} < -3 then 'sangat_pendek'
        when {{ haz }} < -2 then 'pendek'
        when {{ haz }} <= 3 then 'normal'
        when {{ haz }} > 3 then 'tinggi'
    end)
{%- endmacro -%}
