-- A table, not a view like the other staging models: two marts and the key tests read it, and as a view each
-- of them re-ran the latest-submission window over every landed row (at a tenth of national size, 23 M members:
-- three windows, ~100 s of the dbt build).
{{ config(materialized='table') }}

-- The PK family register, one row per family per round (tahun_pendataan), typed.
-- A family sent again for the same round (a corrected file) keeps only its latest row: latest batch, then file and
-- row, wins. keluarga_id and no_kk_hash are keyed hashes (pseudonymised at ingestion), still personal data.

with

source as (

    select * from {{ source('landing', 'pk_keluarga') }}

),

renamed as (

    select
        -- ids (pseudonymised)
        cast(keluarga_id as {{ type_string() }}) as keluarga_id,
        cast(no_kk_hash as {{ type_string() }}) as no_kk_hash,

        -- where and when
        cast(kode_desa as {{ type_string() }}) as kode_desa,
        cast(rw as {{ type_string() }}) as rw,
        cast(tahun_pendataan as integer) as tahun_pendataan,

        -- family
        cast(jumlah_anggota as integer) as jumlah_anggota,
        cast(pus as integer) as pus,
        cast(usia_istri as integer) as usia_istri,
        cast(jumlah_anak_hidup as integer) as jumlah_anak_hidup,
        cast(status_kb as {{ type_string() }}) as status_kb,
        cast(metode_kb as {{ type_string() }}) as metode_kb,

        -- living conditions and stunting risk
        cast(sumber_air_layak as integer) as sumber_air_layak,
        cast(jamban_layak as integer) as jamban_layak,
        cast(rumah_layak as integer) as rumah_layak,
        cast(desil as integer) as desil,
        cast(punya_baduta as integer) as punya_baduta,
        cast(punya_balita as integer) as punya_balita,
        cast(pus_hamil as integer) as pus_hamil,
        cast(krs as integer) as krs,

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
        {{ submission_ranking('keluarga_id, tahun_pendataan') }}
    from renamed

),

latest as (

    select
        keluarga_id,
        no_kk_hash,
        kode_desa,
        rw,
        tahun_pendataan,
        jumlah_anggota,
        pus,
        usia_istri,
        jumlah_anak_hidup,
        status_kb,
        metode_kb,
        sumber_air_layak,
        jamban_layak,
        rumah_layak,
        desil,
        punya_baduta,
        punya_balita,
        pus_hamil,
        krs,
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
