-- The ingestion manifest: one row per raw file seen, with what happened to it.

with

source as (

    select * from {{ source('landing', 'manifest') }}

),

renamed as (

    select
        cast(batch as varchar) as batch_id,
        cast(entity as varchar) as entity,
        cast(path as varchar) as file_path,
        cast(sha256 as varchar) as file_sha256,
        cast(size_bytes as bigint) as size_bytes,
        cast(first_seen_at as timestamp) as first_seen_at,
        cast(status as varchar) as status,
        cast(reason as varchar) as reason,
        cast(duplicate_of as varchar) as duplicate_of_path,
        cast(rows_read as bigint) as rows_read,
        cast(rows_landed as bigint) as rows_landed,
        cast(rows_quarantined as bigint) as rows_quarantined
    from source

)

select * from renamed
