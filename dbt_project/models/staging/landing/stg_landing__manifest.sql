-- The ingestion manifest: one row per raw file seen, with what happened to it.

with

source as (

    select * from {{ source('landing', 'manifest') }}

),

renamed as (

    select
        cast(batch as {{ type_string() }}) as batch_id,
        cast(entity as {{ type_string() }}) as entity,
        cast(path as {{ type_string() }}) as file_path,
        cast(sha256 as {{ type_string() }}) as file_sha256,
        cast(size_bytes as bigint) as size_bytes,
        cast(first_seen_at as timestamp) as first_seen_at,
        cast(status as {{ type_string() }}) as status,
        cast(reason as {{ type_string() }}) as reason,
        cast(duplicate_of as {{ type_string() }}) as duplicate_of_path,
        cast(rows_read as bigint) as rows_read,
        cast(rows_landed as bigint) as rows_landed,
        cast(rows_quarantined as bigint) as rows_quarantined
    from source

)

select * from renamed
