-- Activity posts (intervensi) of the Kampung KB, one row per intervensi_id, typed. A post received again (the portal
-- API sends an edited post with the same id) replaces the earlier one: the latest ingest batch, then file and row
-- (all descending) wins.

with

source as (

    select * from {{ source('landing', 'intervensi') }}

),

renamed as (

    select
        -- ids
        cast(intervensi_id as bigint) as intervensi_id,
        cast(kampung_kb_id as bigint) as kampung_kb_id,

        -- the activity
        cast(tanggal as date) as tanggal,
        cast(judul as varchar) as judul,
        cast(tempat as varchar) as tempat,
        cast(jenis_post as varchar) as jenis_post,
        cast(fungsi_keluarga as varchar) as fungsi_keluarga,
        cast(sasaran as varchar[]) as sasaran,
        cast(instansi as varchar[]) as instansi,
        cast(inpres_sasaran as varchar) as inpres_sasaran,

        -- lineage
        cast(_file as varchar) as _file,
        cast(_file_sha256 as varchar) as _file_sha256,
        cast(_row as integer) as _row,
        cast(_batch as varchar) as _batch,
        cast(_ingested_at as timestamp) as _ingested_at

    from source

),

ranked as (

    select
        *,
        row_number() over (
            partition by intervensi_id
            order by _batch desc, _file desc, _row desc
        ) as submission_rank
    from renamed

)

select * exclude (submission_rank)
from ranked
where submission_rank = 1
