-- The monthly KKBPK report that counts: the latest submission per Kampung KB and month
-- (the ranking lives in stg_landing__kkbpk_bulanan_submissions, which keeps the superseded ones).

with

submissions as (

    select * from {{ ref('stg_landing__kkbpk_bulanan_submissions') }}

),

latest as (

    select
        kampung_kb_id,
        kode_desa,
        tahun,
        bulan,
        tanggal_lapor,
        tanggal_lapor_sumber,
        jml_jiwa,
        jml_keluarga,
        jml_pus,
        jml_remaja,
        kel_balita,
        kel_remaja,
        kel_lansia,
        pa_iud,
        pa_mow,
        pa_mop,
        pa_implan,
        pa_suntik,
        pa_pil,
        pa_kondom,
        non_kb_hamil,
        non_kb_ias,
        non_kb_iat,
        non_kb_tial,
        ikut_bkb,
        ikut_bkr,
        ikut_bkl,
        ikut_uppka,
        ikut_pikr,
        pengguna_bpjs,
        submission_key,
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
    from submissions
    where is_latest

)

select * from latest
