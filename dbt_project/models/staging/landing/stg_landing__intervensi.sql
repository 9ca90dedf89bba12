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
        cast(judul as {{ type_string() }}) as judul,
        cast(tempat as {{ type_string() }}) as tempat,
        cast(jenis_post as {{ type_string() }}) as jenis_post,
        cast(fungsi_keluarga as {{ type_string() }}) as fungsi_keluarga,
        cast(sasaran as {{ type_string_list() }}) as sasaran,
        cast(instansi as {{ type_string_list() }}) as instansi,
        cast(inpres_sasaran as {{ type_string() }}) as inpres_sasaran,

        -- lineage
        cast(_file as {{ type_string() }}) as _file,
        cast(_file_sha256 as {{ type_string() }}) as _file_sha256,
        cast(_row as integer) as _row,
        cast(_sheet as {{ type_string() }}) as _sheet,
        cast(_batch as {{ type_string() }}) as _batch,
        cast(_ingested_at as timestamp) as _ingested_at

    from source

),

latest as (

    {{ latest_submission('renamed', 'intervensi_id') }}

)

select * from latest
