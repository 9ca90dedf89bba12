-- The SIGA poktan register (BKB, BKR, BKL, UPPKA, PIK-R), one row per group (kelompok_id) and month, typed.
-- A group-month sent again (a corrected file) keeps only the latest row: latest batch, then file and row, wins.

with

source as (

    select * from {{ source('landing', 'poktan') }}

),

renamed as (

    select
        -- ids
        cast(kelompok_id as bigint) as kelompok_id,
        cast(jenis_poktan as {{ type_string() }}) as jenis_poktan,

        -- where and when
        cast(kode_desa as {{ type_string() }}) as kode_desa,
        cast(tahun as integer) as tahun,
        cast(bulan as integer) as bulan,

        -- counts
        cast(jumlah_anggota as integer) as jumlah_anggota,
        cast(jumlah_hadir as integer) as jumlah_hadir,
        cast(ada_pertemuan as integer) as ada_pertemuan,

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
        {{ submission_ranking('kelompok_id, tahun, bulan') }}
    from renamed

),

latest as (

    select
        kelompok_id,
        jenis_poktan,
        kode_desa,
        tahun,
        bulan,
        jumlah_anggota,
        jumlah_hadir,
        ada_pertemuan,
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
