-- e-PPGBM child measurements, one row per child (nik_anak_hash) and measurement date (tanggal_ukur), typed.
-- A measurement sent again (a corrected file) keeps only its latest row: latest batch, then file and row, wins.
-- nik_anak_hash and no_kk_hash are keyed hashes (pseudonymised at ingestion), still personal data; the birth date
-- never gets here, only the completed months of age at the measurement (umur_bulan).

with

source as (

    select * from {{ source('landing', 'eppgbm') }}

),

renamed as (

    select
        -- ids (pseudonymised)
        cast(nik_anak_hash as {{ type_string() }}) as nik_anak_hash,
        cast(no_kk_hash as {{ type_string() }}) as no_kk_hash,

        -- where and when
        cast(kode_posyandu as {{ type_string() }}) as kode_posyandu,
        cast(tanggal_ukur as date) as tanggal_ukur,

        -- child and measurement
        cast(umur_bulan as integer) as umur_bulan,
        cast(jenis_kelamin as {{ type_string() }}) as jenis_kelamin,
        cast(berat_kg as {{ type_double() }}) as berat_kg,
        cast(tinggi_cm as {{ type_double() }}) as tinggi_cm,
        cast(cara_ukur as {{ type_string() }}) as cara_ukur,

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
        {{ submission_ranking('nik_anak_hash, tanggal_ukur') }}
    from renamed

),

latest as (

    select
        nik_anak_hash,
        no_kk_hash,
        kode_posyandu,
        tanggal_ukur,
        umur_bulan,
        jenis_kelamin,
        berat_kg,
        tinggi_cm,
        cara_ukur,
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
