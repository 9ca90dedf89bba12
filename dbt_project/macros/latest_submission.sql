{#-
    The latest submission per key among the rows of CTE `rows`: the latest ingest batch, then file, then row (all
    descending) wins. A select statement, for the body of a CTE: `latest as ({{ latest_submission('renamed',
    'intervensi_id') }})`. The winners are joined back on their lineage (batch, file, row: unique per landed row)
    rather than `select * exclude (rank)`, which only DuckDB has, so the result has exactly the columns of `rows`.
-#}
{%- macro latest_submission(rows, partition_by) -%}
    select {{ rows }}.*
    from {{ rows }}
    inner join (
        select
            _batch,
            _file,
            _row,
            row_number() over (
                partition by {{ partition_by }}
                order by _batch desc, _file desc, _row desc
            ) as submission_rank
        from {{ rows }}
    ) as ranked
        on
            {{ rows }}._batch = ranked._batch
            and {{ rows }}._file = ranked._file
            and {{ rows }}._row = ranked._row
    where ranked.submission_rank = 1
{%- endmacro -%}
