{#-
    The few places where DuckDB, PostgreSQL and Spark SQL differ, behind `adapter.dispatch` (the project's own
    namespace), so that models read the same on every target. dbt's own cross-database macros (dbt.type_string,
    dbt.hash, dbt.concat, dbt.dateadd, dbt.datediff ...) cover the rest. Each macro has a default (DuckDB) and an
    implementation per engine that spells it otherwise.
-#}

{#- Text: VARCHAR on DuckDB, text on PostgreSQL, string on Spark (dbt's cross-database macro, named here so that
    models call project macros only, which the SQL linter stands in for: .sqlfluff). -#}
{%- macro type_string() -%}{{ return(dbt.type_string()) }}{%- endmacro -%}

{#- A double-precision float. dbt.type_float() is FLOAT, a 4-byte REAL on DuckDB, so it is not used. -#}
{%- macro type_double() -%}{{ return(adapter.dispatch('type_double', 'kampung_kb')()) }}{%- endmacro -%}
{%- macro default__type_double() -%}{{ return('double') }}{%- endmacro -%}
{%- macro postgres__type_double() -%}{{ return('double precision') }}{%- endmacro -%}

{#- A list of strings: VARCHAR[] on DuckDB, text[] on PostgreSQL, array<string> on Spark. -#}
{%- macro type_string_list() -%}{{ return(adapter.dispatch('type_string_list', 'kampung_kb')()) }}{%- endmacro -%}
{%- macro default__type_string_list() -%}{{ return('varchar[]') }}{%- endmacro -%}
{%- macro postgres__type_string_list() -%}{{ return('text[]') }}{%- endmacro -%}
{%- macro spark__type_string_list() -%}{{ return('array<string>') }}{%- endmacro -%}

{#- The number of distinct non-NULL elements of a list; NULL for a NULL list. -#}
{%- macro list_distinct_count(list) -%}
    {{ return(adapter.dispatch('list_distinct_count', 'kampung_kb')(list)) }}
{%- endmacro -%}
{%- macro default__list_distinct_count(list) -%}len(list_distinct({{ list }})){%- endmacro -%}
{%- macro postgres__list_distinct_count(list) -%}
    (select count(distinct element) from unnest({{ list }}) as element)
    {#- unnest(NULL) gives no rows and count 0: keep NULL for a NULL list, as the others do -#}
    * case when {{ list }} is null then null else 1 end
{%- endmacro -%}
{%- macro spark__list_distinct_count(list) -%}
    {#- size(NULL) is -1 in Spark, not NULL (found by the engine parity test on dim_kampung_kb) -#}
    case
        when {{ list }} is not null then size(array_distinct(filter({{ list }}, element -> element is not null)))
    end
{%- endmacro -%}

{#-
    One row per distinct non-NULL element of a list column, as `alias`, with the other columns of the row:
    `select <columns>, <element> from <relation>` where `<element>` is this macro. Use as the last item of a select
    list over a single relation, e.g. `select intervensi_key, {{ unnest_distinct('instansi', 'instansi') }} from x`.
    DuckDB and PostgreSQL unnest in the select list; Spark explodes. NULL elements are dropped by the caller's
    `where <alias> is not null`.
-#}
{%- macro unnest_distinct(list, alias) -%}
    {{ return(adapter.dispatch('unnest_distinct', 'kampung_kb')(list, alias)) }}
{%- endmacro -%}
{%- macro default__unnest_distinct(list, alias) -%}unnest(list_distinct({{ list }})) as {{ alias }}{%- endmacro -%}
{%- macro postgres__unnest_distinct(list, alias) -%}
    unnest(array(select distinct element from unnest({{ list }}) as element where element is not null)) as {{ alias }}
{%- endmacro -%}
{%- macro spark__unnest_distinct(list, alias) -%}
    explode(array_distinct(filter({{ list }}, element -> element is not null))) as {{ alias }}
{%- endmacro -%}

{#-
    Model contracts: the data types in the .yml files are written once, in DuckDB's spelling (varchar, double,
    varchar[] ...). On PostgreSQL and Spark the contract check and the CREATE TABLE of a contracted model read them
    through `contract_type`, which spells them for the engine. Nothing else in dbt reads them.
-#}
{%- macro contract_type(data_type) -%}
    {{ return(adapter.dispatch('contract_type', 'kampung_kb')(data_type)) }}
{%- endmacro -%}
{%- macro default__contract_type(data_type) -%}{{ return(data_type) }}{%- endmacro -%}
{%- macro postgres__contract_type(data_type) -%}
    {#- text, not varchar: dbt.type_string() is text on PostgreSQL, and the contract compares type names -#}
    {{ return({'varchar': 'text', 'double': 'double precision', 'varchar[]': 'text[]'}.get(data_type | lower,
              data_type)) }}
{%- endmacro -%}
{%- macro spark__contract_type(data_type) -%}
    {{ return({'varchar': 'string', 'varchar[]': 'array<string>'}.get(data_type | lower, data_type)) }}
{%- endmacro -%}

{%- macro contract_columns(columns) -%}
    {%- set translated = {} -%}
    {%- for name, column in columns.items() -%}
        {%- set copy = {} -%}
        {%- do copy.update(column) -%}
        {%- if column.get('data_type') -%}
            {%- do copy.update({'data_type': contract_type(column['data_type'])}) -%}
        {%- endif -%}
        {%- do translated.update({name: copy}) -%}
    {%- endfor -%}
    {{ return(translated) }}
{%- endmacro -%}

{#- dbt's own macros, overridden for the two engines (the root project wins dbt's dispatch search). -#}
{%- macro postgres__get_empty_schema_sql(columns) -%}
    {{ return(dbt.default__get_empty_schema_sql(contract_columns(columns))) }}
{%- endmacro -%}
{%- macro spark__get_empty_schema_sql(columns) -%}
    {{ return(dbt.default__get_empty_schema_sql(contract_columns(columns))) }}
{%- endmacro -%}
{%- macro postgres__get_table_columns_and_constraints() -%}
    (
    {% for c in adapter.render_raw_columns_constraints(raw_columns=contract_columns(model['columns'])) -%}
      {{ c }}{{ "," if not loop.last }}
    {% endfor %}
    )
{%- endmacro -%}
