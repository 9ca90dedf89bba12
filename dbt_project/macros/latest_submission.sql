{#-
    Ranking of the submissions of one key, newest first, as select-list items for a CTE over rows with lineage
    (_batch, _file, _sheet, _row): `submission_rank` (1 = the one that counts), `superseded_submissions` (how many earlier
    submissions of the key there are: on the latest row, how many it replaced), `supersedes_file`/`_sheet`/`_row`
    (the submission just before this one, NULL when it replaced nothing) and `superseded_by_file`/`_sheet`/`_row`
    (the one just after, NULL on the latest). order_by defaults to the latest ingest batch, then file, sheet, row.
-#}
{%- macro submission_ranking(partition_by, order_by=none) -%}
    {%- set order_by = order_by or '_batch desc, _file desc, ' ~ sheet_order() ~ ', _row desc' -%}
        row_number() over (partition by {{ partition_by }} order by {{ order_by }}) as submission_rank,
        count(*) over (partition by {{ partition_by }}) - 1 as superseded_submissions,
        lead(_file) over (partition by {{ partition_by }} order by {{ order_by }}) as supersedes_file,
        lead(_sheet) over (partition by {{ partition_by }} order by {{ order_by }}) as supersedes_sheet,
        lead(_row) over (partition by {{ partition_by }} order by {{ order_by }}) as supersedes_row,
        lag(_file) over (partition by {{ partition_by }} order by {{ order_by }}) as superseded_by_file,
        lag(_sheet) over (partition by {{ partition_by }} order by {{ order_by }}) as superseded_by_sheet,
        lag(_row) over (partition by {{ partition_by }} order by {{ order_by }}) as superseded_by_row
{%- endmacro -%}

{#- The sheet in a total order, the same on every engine (NULL, a text file's, sorts as the empty string). -#}
{%- macro sheet_order() -%}coalesce(_sheet, '') desc{%- endmacro -%}

{#-
    The latest submission per key among the rows of CTE `rows`, with what it superseded (see submission_ranking):
    the latest ingest batch, then file, then row (all descending) wins. A select statement, for the body of a CTE:
    `latest as ({{ latest_submission('renamed', 'intervensi_id') }})`. The winners are joined back on their lineage
    (batch, file, row: unique per landed row) rather than `select * exclude (rank)`, which only DuckDB has, so the
    result has the columns of `rows` plus superseded_submissions, supersedes_file, supersedes_sheet, supersedes_row.
-#}
{%- macro latest_submission(rows, partition_by) -%}
    select
        {{ rows }}.*,
        ranked.superseded_submissions,
        ranked.supersedes_file,
        ranked.supersedes_row,
        ranked.supersedes_sheet
    from {{ rows }}
    inner join (
        select
            _batch,
            _file,
            _sheet,
            _row,
            {{ submission_ranking(partition_by) }}
        from {{ rows }}
    ) as ranked
        on
            {{ rows }}._batch = ranked._batch
            and {{ rows }}._file = ranked._file
            and coalesce({{ rows }}._sheet, '') = coalesce(ranked._sheet, '')
            and {{ rows }}._row = ranked._row
    where ranked.submission_rank = 1
{%- endmacro -%}

{#-
    The lineage columns every fact row keeps (select-list items, comma-separated, no trailing comma): the submission
    it came from (file, file content hash, row, ingest batch, workbook sheet) and what it superseded. relation: a CTE or table alias
    to qualify them with, or none.
-#}
{%- macro fact_lineage(relation=none) -%}
    {%- set p = relation ~ '.' if relation else '' -%}
    {%- for c in ['_file', '_file_sha256', '_row', '_batch', 'superseded_submissions', 'supersedes_file',
                  'supersedes_row', '_sheet', 'supersedes_sheet'] -%}
        {{ p }}{{ c }}{{ ',\n        ' if not loop.last }}
    {%- endfor -%}
{%- endmacro -%}
