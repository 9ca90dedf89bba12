{#- Period rules shared by dim_periode and the facts, so each rule has one definition. -#}

{#- The first day of the month of a (tahun, bulan) pair. make_date exists in DuckDB, PostgreSQL and Spark. -#}
{%- macro periode_awal(tahun, bulan) -%}
    make_date({{ tahun }}, {{ bulan }}, 1)
{%- endmacro -%}

{#- yyyymm as an integer: the key of dim_periode. -#}
{%- macro periode_key(tahun, bulan) -%}
    cast({{ tahun }} * 100 + {{ bulan }} as {{ dbt.type_int() }})
{%- endmacro -%}

{#-
    The reporting deadline of a month (R/I registers): the 3rd of the next month, inclusive.
    `periode_awal` is a date expression for the first day of the reported month.
-#}
{%- macro batas_lapor(periode_awal) -%}
    cast({{ dbt.dateadd('day', 2, dbt.dateadd('month', 1, periode_awal)) }} as date)
{%- endmacro -%}

{#- The last day of the month that starts at `periode_awal`. -#}
{%- macro periode_akhir(periode_awal) -%}
    cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, periode_awal)) }} as date)
{%- endmacro -%}
