{#-
    on-run-start (dbt_project.yml): make the landing Parquet and the region list readable as the sources
    `landing.<table>` and `reference.<table>` on engines that do not read them through dbt-duckdb's
    `external_location`. Each source table names its files in `meta.location`, relative to KKB_WAREHOUSE_DIR (a
    folder of Parquet files at any depth, or one Parquet file).

    DuckDB: nothing to do. PostgreSQL: nothing here; PostgreSQL cannot read Parquet, the tables are loaded before dbt
    runs (pipelines/lib/pg_landing.py), and this hook only checks that they are there.
    Spark: an external table per source over the files, re-registered every run (cheap: metadata only) so that new
    batches and new columns are seen. The columns come from the entity's `_schema/empty.parquet` (the ingestion keeps
    it equal to the current landing schema), so an entity with no batch yet is an empty table, and older batches
    without a newer column read it as NULL (DuckDB's union_by_name).
-#}
{%- macro register_landing_tables() -%}
    {{ return(adapter.dispatch('register_landing_tables', 'kampung_kb')()) }}
{%- endmacro -%}

{%- macro default__register_landing_tables() -%}{{ return('') }}{%- endmacro -%}

{%- macro landing_source_tables() -%}
    {%- set found = [] -%}
    {%- for node in graph.sources.values() if node.package_name == project_name and node.meta.get('location') -%}
        {%- do found.append(node) -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro -%}

{%- macro postgres__register_landing_tables() -%}
    {%- if execute -%}
        {%- for node in landing_source_tables() -%}
            {%- set relation = adapter.get_relation(database=target.dbname, schema=node.schema,
                                                     identifier=node.identifier) -%}
            {%- if relation is none -%}
                {{ exceptions.raise_compiler_error(
                    "Source " ~ node.schema ~ "." ~ node.identifier ~ " is not loaded into PostgreSQL. Run dbt "
                    ~ "through `kkb dbt --target postgres ...`, which loads the landing Parquet first.") }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro -%}

{%- macro spark__register_landing_tables() -%}
    {%- if execute -%}
        {%- set root = env_var('KKB_WAREHOUSE_DIR', '../warehouse') -%}
        {#- only the missing databases: Hive logs an error for every `create database if not exists` of one it has -#}
        {%- set databases = run_query('show databases').columns[0].values() | map('lower') | list -%}
        {%- for node in landing_source_tables() -%}
            {%- set path = root ~ '/' ~ node.meta['location'] -%}
            {%- set table = node.schema ~ '.' ~ node.identifier -%}
            {%- if node.schema | lower not in databases -%}
                {%- do run_query('create database ' ~ node.schema) -%}
                {%- do databases.append(node.schema | lower) -%}
            {%- endif -%}
            {%- set existing = adapter.get_relation(database=none, schema=node.schema, identifier=node.identifier) -%}
            {%- if existing is not none -%}
                {%- do adapter.drop_relation(existing) -%}
            {%- endif -%}
            {%- if path.endswith('.parquet') -%}
                {#- one file: a view (the Hive metastore wants a folder as a table's location) -#}
                {%- do run_query("create view " ~ table ~ " as select * from parquet.`" ~ path ~ "`") -%}
            {%- else -%}
                {%- set columns = 'kkb_columns_' ~ node.identifier -%}
                {%- do run_query("create or replace temporary view " ~ columns ~ " using parquet options (path '"
                                 ~ path ~ "/_schema/empty.parquet')") -%}
                {%- do run_query("create table " ~ table ~ " like " ~ columns ~ " using parquet location '"
                                 ~ path ~ "'") -%}
                {#- batches are folders <batch>/<period>/part-*.parquet, not Hive partitions: list every file -#}
                {%- do run_query("alter table " ~ table ~ " set serdeproperties ('recursiveFileLookup' = 'true')") -%}
                {%- do run_query("refresh table " ~ table) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro -%}
