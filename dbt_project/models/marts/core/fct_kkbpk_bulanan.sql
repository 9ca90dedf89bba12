-- One row per Kampung KB and month: the monthly KKBPK report that counts (the latest submission), with its keys,
-- the on-time flag and the totals the indicators are built from. Joins are left joins so that a report without a
-- matching dimension row keeps its row and fails the not_null / relationships tests instead of disappearing.

with

laporan as (

    select * from {{ ref('stg_landing__kkbpk_bulanan') }}

),

kampung_kb as (

    select * from {{ ref('dim_kampung_kb') }}

),

laporan_dengan_periode as (

    select
        *,
        {{ periode_awal('tahun', 'bulan') }} as periode_awal
    from laporan

),

joined as (

    select
        kampung_kb.kampung_kb_key,
        {{ wilayah_key('laporan.kode_desa') }} as wilayah_key,
        {{ periode_key('laporan.tahun', 'laporan.bulan') }} as periode_key,
        laporan.kampung_kb_id,
        laporan.kode_desa,
        laporan.tahun,
        laporan.bulan,
        laporan.tanggal_lapor,
        laporan.tanggal_lapor_sumber,
        laporan.tanggal_lapor <= {{ batas_lapor('laporan.periode_awal') }} as is_tepat_waktu,

        laporan.jml_jiwa,
        laporan.jml_keluarga,
        laporan.jml_pus,
        laporan.jml_remaja,
        laporan.kel_balita,
        laporan.kel_remaja,
        laporan.kel_lansia,

        laporan.pa_iud,
        laporan.pa_mow,
        laporan.pa_mop,
        laporan.pa_implan,
        laporan.pa_suntik,
        laporan.pa_pil,
        laporan.pa_kondom,

        laporan.non_kb_hamil,
        laporan.non_kb_ias,
        laporan.non_kb_iat,
        laporan.non_kb_tial,

        laporan.ikut_bkb,
        laporan.ikut_bkr,
        laporan.ikut_bkl,
        laporan.ikut_uppka,
        laporan.ikut_pikr,
        laporan.pengguna_bpjs,

        laporan.pa_iud + laporan.pa_mow + laporan.pa_mop + laporan.pa_implan
        + laporan.pa_suntik + laporan.pa_pil + laporan.pa_kondom as pa_total,
        laporan.pa_iud + laporan.pa_mow + laporan.pa_mop + laporan.pa_implan as pa_mkjp,
        laporan.non_kb_hamil + laporan.non_kb_ias + laporan.non_kb_iat + laporan.non_kb_tial as non_kb_total,
        laporan.non_kb_iat + laporan.non_kb_tial as non_kb_unmet,

        {{ fact_lineage('laporan') }}

    from laporan_dengan_periode as laporan
    left join kampung_kb
        on
            laporan.kampung_kb_id = kampung_kb.kampung_kb_id
            and laporan.periode_awal >= kampung_kb.valid_from
            and (laporan.periode_awal < kampung_kb.valid_to or kampung_kb.valid_to is null)

)

select * from joined
