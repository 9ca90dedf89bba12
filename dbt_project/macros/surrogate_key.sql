{#-
    A surrogate key: the md5 hash of the given columns, each cast to text, NULL replaced by a marker and the values
    joined by '-'. Same algorithm as dbt_utils.generate_surrogate_key (not installable offline), built on dbt's
    cross-database macros so it gives the same key on DuckDB, PostgreSQL and Spark.
-#}
{%- macro surrogate_key(field_list) -%}
    {%- set parts = [] -%}
    {%- for field in field_list -%}
        {%- set as_text = "cast(" ~ field ~ " as " ~ dbt.type_string() ~ ")" -%}
        {%- do parts.append("coalesce(" ~ as_text ~ ", '_kkb_surrogate_key_null_')") -%}
        {%- if not loop.last -%}
            {%- do parts.append("'-'") -%}
        {%- endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro -%}

{#- The key of dim_wilayah, computed from a kode_desa wherever a model points at a desa (one definition). -#}
{%- macro wilayah_key(kode_desa) -%}
    {{ surrogate_key([kode_desa]) }}
{%- endmacro -%}
