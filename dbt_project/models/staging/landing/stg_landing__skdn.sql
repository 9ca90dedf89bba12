-- The monthly SKDN recap of a posyandu, one row per posyandu and month (tahun, bulan), typed.
-- A recap sent again for the same month (a corrected file) keeps only its latest row: latest batch, then file and
-- row, wins.

with

source as (

    select * from {{ source('landing', 'skdn') }}

),

renamed as (

    select
        -- ids
        cast(kode_posyandu as {{ type_string() }}) as kode_posyandu,
        cast(tahun as integer) as tahun,
        cast(bulan as integer) as bulan,

        -- counts
        cast(hari_buka as integer) as hari_buka,
        cast(s as integer) as s,
        cast(k as integer) as k,
        cast(d as integer) as d,
        cast(n as integer) as n,
        cast(bgm as integer) as bgm,
        cast(balita_diukur_tb as integer) as balita_diukur_tb,
        cast(pendek as integer) as pendek,
        cast(sangat_pendek as integer) as sangat_pendek,
        cast(bumil_datang as integer) as bumil_datang,
        cast(bumil_kek as integer) as bumil_kek,

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
        {{ submission_ranking('kode_posyandu, tahun, bulan') }}
    from renamed

),

latest as (

    select
        kode_posyandu,
        tahun,
        bulan,
        hari_buka,
        s,
        k,
        d,
        n,
        bgm,
        balita_diukur_tb,
        pendek,
        sangat_pendek,
        bumil_datang,
        bumil_kek,
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
