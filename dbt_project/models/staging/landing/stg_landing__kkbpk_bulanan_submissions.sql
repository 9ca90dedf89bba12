-- Every submission of the monthly KKBPK report, typed, with the latest-submission-wins ranking.
-- A corrected report for the same Kampung KB and month replaces the earlier one; both stay here, traceable:
-- `is_latest` marks the one that counts, `superseded_by_*` points from each older one to the next newer one and
-- `supersedes_*` from each newer one to the one it replaced (macros/latest_submission.sql).
-- The order is total and deterministic: submission date, then ingest batch, file, sheet and row (all descending).

with

source as (

    select * from {{ source('landing', 'kkbpk_bulanan') }}

),

renamed as (

    select
        -- ids
        cast(kampung_kb_id as bigint) as kampung_kb_id,
        cast(kode_desa as {{ type_string() }}) as kode_desa,

        -- period and submission
        cast(tahun as integer) as tahun,
        cast(bulan as integer) as bulan,
        cast(tanggal_lapor as date) as tanggal_lapor,
        -- batches loaded before the column existed took every date from the report itself
        coalesce(cast(tanggal_lapor_sumber as {{ type_string() }}), 'laporan') as tanggal_lapor_sumber,

        -- population
        cast(jml_jiwa as integer) as jml_jiwa,
        cast(jml_keluarga as integer) as jml_keluarga,
        cast(jml_pus as integer) as jml_pus,
        cast(jml_remaja as integer) as jml_remaja,
        cast(kel_balita as integer) as kel_balita,
        cast(kel_remaja as integer) as kel_remaja,
        cast(kel_lansia as integer) as kel_lansia,

        -- contraceptive users (peserta KB aktif) by method
        cast(pa_iud as integer) as pa_iud,
        cast(pa_mow as integer) as pa_mow,
        cast(pa_mop as integer) as pa_mop,
        cast(pa_implan as integer) as pa_implan,
        cast(pa_suntik as integer) as pa_suntik,
        cast(pa_pil as integer) as pa_pil,
        cast(pa_kondom as integer) as pa_kondom,

        -- PUS not using contraception, by reason
        cast(non_kb_hamil as integer) as non_kb_hamil,
        cast(non_kb_ias as integer) as non_kb_ias,
        cast(non_kb_iat as integer) as non_kb_iat,
        cast(non_kb_tial as integer) as non_kb_tial,

        -- poktan participation and health insurance
        cast(ikut_bkb as integer) as ikut_bkb,
        cast(ikut_bkr as integer) as ikut_bkr,
        cast(ikut_bkl as integer) as ikut_bkl,
        cast(ikut_uppka as integer) as ikut_uppka,
        cast(ikut_pikr as integer) as ikut_pikr,
        cast(pengguna_bpjs as integer) as pengguna_bpjs,

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
        {{ submission_ranking('kampung_kb_id, tahun, bulan',
                              'tanggal_lapor desc, _batch desc, _file desc, ' ~ sheet_order() ~ ', _row desc') }}
    from renamed

)

select
    {{ surrogate_key(['_file_sha256', '_sheet', '_row']) }} as submission_key,
    *,
    submission_rank = 1 as is_latest
from ranked
