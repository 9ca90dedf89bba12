{#-
    Kampung KB class scoring (DOMAIN.md section 4, as the portal computes it). Every variable scores 1-4; a missing
    input (NULL: no profile yet, or a percentage with a zero denominator) scores 1, the lowest: the portal cannot
    credit what is not reported. Used by fct_kampung_kb_klasifikasi; the band edges are unit-tested there.
-#}

{#-
    Score of a count by inclusive upper bounds: value <= bounds[0] -> 1, <= bounds[1] -> 2, ..., above the last
    bound -> len(bounds) + 1. NULL counts as 0. E.g. funding sources (0->1, 1->2, 2-4->3, >4->4) is [0, 1, 4].
-#}
{%- macro skor_jumlah(value, bounds) -%}
    case
        {%- for bound in bounds %}
        when coalesce({{ value }}, 0) <= {{ bound }} then {{ loop.index }}
        {%- endfor %}
        else {{ bounds | length + 1 }}
    end
{%- endmacro -%}

{#-
    Score of a percentage where higher is better, bands "<a -> 1, a-b -> 2, (b+1)-c -> 3, >c -> 4" read for
    non-integer values as: < a -> 1, a <= x <= b -> 2, b < x <= c -> 3, x > c -> 4. NULL -> 1.
-#}
{%- macro skor_persentase_naik(value, a, b, c) -%}
    case
        when {{ value }} is null then 1
        when {{ value }} < {{ a }} then 1
        when {{ value }} <= {{ b }} then 2
        when {{ value }} <= {{ c }} then 3
        else 4
    end
{%- endmacro -%}

{#-
    Pokja: 1 no pokja, 2 pokja only, 3 pokja with members (pokja_jumlah > 0) or trained members, 4 pokja with members
    and trained members. Flags are booleans; NULL counts as false / 0.
-#}
{%- macro skor_pokja(pokja_ada, pokja_jumlah, pokja_terlatih_ada) -%}
    case
        when not coalesce({{ pokja_ada }}, false) then 1
        when coalesce({{ pokja_jumlah }}, 0) > 0 and coalesce({{ pokja_terlatih_ada }}, false) then 4
        when coalesce({{ pokja_jumlah }}, 0) > 0 or coalesce({{ pokja_terlatih_ada }}, false) then 3
        else 2
    end
{%- endmacro -%}

{#- The number of true flags among boolean expressions (NULL counts as false). -#}
{%- macro jumlah_ya(flags) -%}
    ({%- for flag in flags -%}
        case when coalesce({{ flag }}, false) then 1 else 0 end{% if not loop.last %} + {% endif %}
    {%- endfor -%})
{%- endmacro -%}

{#- Funding sources: 0 -> 1, 1 -> 2, 2-4 -> 3, > 4 -> 4. -#}
{%- macro skor_sumber_dana(jumlah) -%}{{ skor_jumlah(jumlah, [0, 1, 4]) }}{%- endmacro -%}

{#- Poktan kinds present: 0 -> 1, 1-2 -> 2, 3-4 -> 3, 5 -> 4. -#}
{%- macro skor_poktan(jumlah) -%}{{ skor_jumlah(jumlah, [0, 2, 4]) }}{%- endmacro -%}

{#- Sarana = sekretariat + Rumah DataKu: 0 -> 1, 1 -> 2, 2 -> 3. -#}
{%- macro skor_sarana(jumlah) -%}{{ skor_jumlah(jumlah, [0, 1]) }}{%- endmacro -%}

{#- PKB/PLKB mentor + regulation: neither -> 1, one -> 2, both -> 3. -#}
{%- macro skor_pendamping_regulasi(jumlah) -%}{{ skor_jumlah(jumlah, [0, 1]) }}{%- endmacro -%}

{#- Data sources used: 0 -> 1, 1 -> 2, 2-3 -> 3, > 3 -> 4. -#}
{%- macro skor_sumber_data(jumlah) -%}{{ skor_jumlah(jumlah, [0, 1, 3]) }}{%- endmacro -%}

{#- Operating mechanisms: 0 -> 1, 1-2 -> 2, 3-4 -> 3, > 4 -> 4. -#}
{%- macro skor_mekanisme(jumlah) -%}{{ skor_jumlah(jumlah, [0, 2, 4]) }}{%- endmacro -%}

{#- Distinct partner agencies: 0 -> 1, 1-3 -> 2, 4-6 -> 3, > 6 -> 4. -#}
{%- macro skor_instansi(jumlah) -%}{{ skor_jumlah(jumlah, [0, 3, 6]) }}{%- endmacro -%}

{#- Mean poktan participation %: < 10 -> 1, 10 to <= 20 -> 2, > 20 to <= 30 -> 3, > 30 -> 4. -#}
{%- macro skor_partisipasi(persen) -%}{{ skor_persentase_naik(persen, 10, 20, 30) }}{%- endmacro -%}

{#- CPR %: < 30 -> 1, 30 to <= 40 -> 2, > 40 to <= 50 -> 3, > 50 -> 4. -#}
{%- macro skor_cpr(persen) -%}{{ skor_persentase_naik(persen, 30, 40, 50) }}{%- endmacro -%}

{#- MKJP share %: < 20 -> 1, 20 to <= 22 -> 2, > 22 to <= 24 -> 3, > 24 -> 4. -#}
{%- macro skor_mkjp(persen) -%}{{ skor_persentase_naik(persen, 20, 22, 24) }}{%- endmacro -%}

{#-
    Unmet need % (lower is better): > 12 -> 1, 9 to <= 12 -> 2, 6 to < 9 -> 3, < 6 -> 4. DOMAIN lists 9 in both
    "9-12" and "6-9": exactly 9 takes the first band listed (2), likewise 12 -> 2 and 6 -> 3. NULL -> 1.
-#}
{%- macro skor_unmet_need(persen) -%}
    case
        when {{ persen }} is null then 1
        when {{ persen }} > 12 then 1
        when {{ persen }} >= 9 then 2
        when {{ persen }} >= 6 then 3
        else 4
    end
{%- endmacro -%}

{#- The mean of scores, as a double (not rounded). -#}
{%- macro skor_rata_rata(scores) -%}
    cast(({{ scores | join(' + ') }}) as {{ type_double() }}) / {{ scores | length }}
{%- endmacro -%}

{#-
    The class, tested in this order: all three >= 3 Berkelanjutan; OUTPUT >= 3 and (INPUT or PROSES >= 3) Mandiri;
    INPUT >= 3 and PROSES >= 3 Berkembang; otherwise Dasar.
-#}
{%- macro klasifikasi(skor_input, skor_proses, skor_output) -%}
    case
        when {{ skor_input }} >= 3 and {{ skor_proses }} >= 3 and {{ skor_output }} >= 3 then 'Berkelanjutan'
        when {{ skor_output }} >= 3 and ({{ skor_input }} >= 3 or {{ skor_proses }} >= 3) then 'Mandiri'
        when {{ skor_input }} >= 3 and {{ skor_proses }} >= 3 then 'Berkembang'
        else 'Dasar'
    end
{%- endmacro -%}
