-- One row per Kampung KB and month with a monthly report: the INPUT, PROSES and OUTPUT scores and the class of
-- DOMAIN.md section 4 (the portal's Kampung KB classification). The inputs are gathered in
-- int_kampung_kb__klasifikasi_input; every band and the class rule are macros in macros/klasifikasi.sql.

with

masukan as (

    select * from {{ ref('int_kampung_kb__klasifikasi_input') }}

),

skor_variabel as (

    select
        kampung_kb_id,
        kampung_kb_key,
        wilayah_key,
        kode_desa,
        periode_key,
        tahun,
        bulan,

        {{ skor_pokja('pokja_ada', 'pokja_jumlah', 'pokja_terlatih_ada') }} as skor_pokja,
        {{ skor_sumber_dana('jumlah_sumber_dana') }} as skor_sumber_dana,
        {{ skor_poktan('jumlah_poktan') }} as skor_poktan,
        {{ skor_sarana(jumlah_ya(['sekretariat_ada', 'rumah_dataku_ada'])) }} as skor_sarana,
        {{ skor_pendamping_regulasi(jumlah_ya(['plkb_pendamping_ada', 'regulasi_ada'])) }}
            as skor_pendamping_regulasi,

        {{ skor_sumber_data('jumlah_penggunaan_data') }} as skor_sumber_data,
        {{ skor_mekanisme('jumlah_mekanisme_operasional') }} as skor_mekanisme,
        {{ skor_instansi('jumlah_instansi') }} as skor_instansi,

        -- mean over the poktan with a target group (a NULL percentage, zero denominator, is left out of the mean)
        (
            coalesce(partisipasi_bkb, 0) + coalesce(partisipasi_bkr, 0) + coalesce(partisipasi_bkl, 0)
            + coalesce(partisipasi_uppka, 0) + coalesce(partisipasi_pikr, 0)
        ) / nullif(
            {{ jumlah_ya([
                'partisipasi_bkb is not null', 'partisipasi_bkr is not null', 'partisipasi_bkl is not null',
                'partisipasi_uppka is not null', 'partisipasi_pikr is not null',
            ]) }},
            0
        ) as partisipasi_poktan,
        cpr,
        mkjp,
        unmet_need
    from masukan

),

skor_output as (

    select
        *,
        {{ skor_partisipasi('partisipasi_poktan') }} as skor_partisipasi,
        {{ skor_cpr('cpr') }} as skor_cpr,
        {{ skor_mkjp('mkjp') }} as skor_mkjp,
        {{ skor_unmet_need('unmet_need') }} as skor_unmet_need
    from skor_variabel

),

skor_dimensi as (

    select
        *,
        {{ skor_rata_rata([
            'skor_pokja', 'skor_sumber_dana', 'skor_poktan', 'skor_sarana', 'skor_pendamping_regulasi',
        ]) }} as skor_input,
        {{ skor_rata_rata(['skor_sumber_data', 'skor_mekanisme', 'skor_instansi']) }} as skor_proses,
        {{ skor_rata_rata(['skor_partisipasi', 'skor_cpr', 'skor_mkjp', 'skor_unmet_need']) }} as skor_output
    from skor_output

),

final as (

    select
        kampung_kb_id,
        kampung_kb_key,
        wilayah_key,
        kode_desa,
        periode_key,
        tahun,
        bulan,
        cast(skor_pokja as integer) as skor_pokja,
        cast(skor_sumber_dana as integer) as skor_sumber_dana,
        cast(skor_poktan as integer) as skor_poktan,
        cast(skor_sarana as integer) as skor_sarana,
        cast(skor_pendamping_regulasi as integer) as skor_pendamping_regulasi,
        skor_input,
        cast(skor_sumber_data as integer) as skor_sumber_data,
        cast(skor_mekanisme as integer) as skor_mekanisme,
        cast(skor_instansi as integer) as skor_instansi,
        skor_proses,
        partisipasi_poktan,
        cpr,
        mkjp,
        unmet_need,
        cast(skor_partisipasi as integer) as skor_partisipasi,
        cast(skor_cpr as integer) as skor_cpr,
        cast(skor_mkjp as integer) as skor_mkjp,
        cast(skor_unmet_need as integer) as skor_unmet_need,
        skor_output,
        {{ klasifikasi('skor_input', 'skor_proses', 'skor_output') }} as klasifikasi
    from skor_dimensi

)

select * from final
