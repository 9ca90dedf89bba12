-- The posyandu master list, one row per posyandu and year (tahun), typed.
-- A posyandu sent again for the same year (a corrected file) keeps only its latest row: latest batch, then file and
-- row, wins.

with

source as (

    select * from {{ source('landing', 'posyandu') }}

),

renamed as (

    select
        -- ids
        cast(kode_posyandu as {{ type_string() }}) as kode_posyandu,
        cast(tahun as integer) as tahun,

        -- attributes
        cast(nama_posyandu as {{ type_string() }}) as nama_posyandu,
        cast(kode_desa as {{ type_string() }}) as kode_desa,
        cast(kode_puskesmas as {{ type_string() }}) as kode_puskesmas,
        cast(rw as {{ type_string() }}) as rw,
        cast(strata as {{ type_string() }}) as strata,
        cast(jumlah_kader as integer) as jumlah_kader,

        -- lineage
        cast(_file as {{ type_string() }}) as _file,
        cast(_file_sha256 as {{ type_string() }}) as _file_sha256,
        cast(_row as integer) as _row,
        cast(_sheet as {{ type_string() }}) as _sheet,
        cast(_batch as {{ type_string() }}) as _batch,
        cast(_ingested_at as timestamp) as _ingested_at

    from source

),

ranked as (

    select
        *,
        {{ submission_ranking('kode_posyandu, tahun') }}
    from renamed

),

latest as (

    select
        kode_posyandu,
        tahun,
        nama_posyandu,
        kode_desa,
        kode_puskesmas,
        rw,
        strata,
        jumlah_kader,
        _file,
        _file_sha256,
        _row,
        _sheet,
        _batch,
        _ingested_at,
        superseded_submissions,
        supersedes_file,
        supersedes_row,
        supersedes_sheet
    from ranked
    where submission_rank = 1

)

select * from latest
