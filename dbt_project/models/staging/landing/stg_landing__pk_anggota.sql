-- A table, not a view like the other staging models: two marts and the key tests read it, and as a view each
-- of them re-ran the latest-submission window over every landed row (at a tenth of national size, 23 M members:
-- three windows, ~100 s of the dbt build).
{{ config(materialized='table') }}

-- The PK member register (Blok I), one row per person: family (keluarga_id) and member number, typed.
-- A member sent again (a corrected file) keeps only the latest row: latest batch, then file and row, wins.
-- keluarga_id and nik_hash are keyed hashes (pseudonymised at ingestion), still personal data; names and birth dates
-- never reach landing (umur_tahun is the age at ingestion).

with

source as (

    select * from {{ source('landing', 'pk_anggota') }}

),

renamed as (

    select
        -- ids (pseudonymised)
        cast(keluarga_id as {{ type_string() }}) as keluarga_id,
        cast(nomor_anggota as integer) as nomor_anggota,
        cast(nik_hash as {{ type_string() }}) as nik_hash,

        -- person
        cast(jenis_kelamin as integer) as jenis_kelamin,
        cast(umur_tahun as integer) as umur_tahun,
        cast(status_kawin as integer) as status_kawin,
        cast(hubungan_kk as integer) as hubungan_kk,
        cast(agama as integer) as agama,
        cast(pendidikan as integer) as pendidikan,
        cast(pekerjaan as integer) as pekerjaan,
        cast(jkn as integer) as jkn,

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
        {{ submission_ranking('keluarga_id, nomor_anggota') }}
    from renamed

),

latest as (

    select
        keluarga_id,
        nomor_anggota,
        nik_hash,
        jenis_kelamin,
        umur_tahun,
        status_kawin,
        hubungan_kk,
        agama,
        pendidikan,
        pekerjaan,
        jkn,
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
