{#-
    The reporting mart of one region level and month (rpt_<level>_bulanan), from int_indikator__desa_bulanan.
    Every indicator is the ratio of the summed numerator to the summed denominator over the units below (DOMAIN.md
    section 4), as a percentage 0-100, NULL when the denominator is 0. Distinct partner agencies and coverage are
    counted at the level itself (they do not add up).
    level: 'desa', 'kec', 'kab' or 'prov'.
-#}
{%- macro rpt_wilayah_bulanan(level) -%}
{%- set levels = ['desa', 'kec', 'kab', 'prov'] -%}
{%- set own = levels[levels.index(level):] -%}
{%- set keys = [] -%}
{%- for l in own -%}
    {%- do keys.append('kode_' ~ l) -%}
    {%- do keys.append('nama_' ~ l) -%}
{%- endfor -%}
{%- set code = 'kode_' ~ level -%}
{#- the additive columns of int_indikator__desa_bulanan, summed over the desa of a unit -#}
{%- set additive = ['jumlah_kampung_kb_aktif', 'jumlah_laporan', 'jumlah_tepat_waktu', 'jml_pus', 'pa_total',
                    'pa_mkjp', 'non_kb_unmet', 'ikut_bkb', 'kel_balita', 'ikut_bkr', 'kel_remaja', 'ikut_bkl',
                    'kel_lansia', 'ikut_uppka', 'jml_keluarga', 'ikut_pikr', 'jml_remaja', 'jumlah_posyandu_lapor',
                    's', 'k', 'd', 'n', 'bgm', 'balita_diukur_tb', 'pendek', 'sangat_pendek', 'anak_diukur',
                    'anak_pendek', 'anak_sangat_pendek', 'keluarga', 'keluarga_sasaran', 'keluarga_krs',
                    'kampung_kb_dasar', 'kampung_kb_berkembang', 'kampung_kb_mandiri',
                    'kampung_kb_berkelanjutan'] -%}

with

wilayah as (

    select * from {{ ref('dim_wilayah') }}

),

desa_bulanan as (

    select
        {% for k in keys %}wilayah.{{ k }},
        {% endfor -%}
        {#- the indicator columns by name: `indikator.*` would repeat kode_desa at desa level (Spark refuses) -#}
        indikator.tahun,
        indikator.bulan,
        indikator.periode_key,
        {% for c in additive %}indikator.{{ c }},
        {% endfor -%}
        wilayah.kode_kec as kecamatan_desa
    from {{ ref('int_indikator__desa_bulanan') }} as indikator
    inner join wilayah
        on indikator.kode_desa = wilayah.kode_desa

),

agregat as (

    select
        {% for k in keys %}{{ k }},
        {% endfor -%}
        tahun,
        bulan,
        periode_key,
        {% for c in additive %}
        sum({{ c }}) as {{ c }},
        {% endfor -%}
        count(distinct kecamatan_desa) as jumlah_kecamatan,
        count(distinct case when jumlah_kampung_kb_aktif > 0 then kecamatan_desa end) as kecamatan_dengan_kampung_kb,
        count(*) as jumlah_desa,
        sum(case when jumlah_kampung_kb_aktif > 0 then 1 else 0 end) as desa_dengan_kampung_kb
    from desa_bulanan
    group by {% for k in keys %}{{ k }}, {% endfor %}tahun, bulan, periode_key

),

instansi as (

    select
        wilayah.{{ code }},
        intervensi.periode_key,
        count(distinct bridge.instansi) as jumlah_instansi
    from {{ ref('fct_intervensi') }} as intervensi
    inner join {{ ref('bridge_intervensi_instansi') }} as bridge
        on intervensi.intervensi_key = bridge.intervensi_key
    inner join wilayah
        on intervensi.kode_desa = wilayah.kode_desa
    group by wilayah.{{ code }}, intervensi.periode_key

),

final as (

    select
        {% for k in keys %}agregat.{{ k }},
        {% endfor -%}
        agregat.tahun,
        agregat.bulan,
        agregat.periode_key,
        {%- for c in additive + ['jumlah_kecamatan', 'kecamatan_dengan_kampung_kb', 'jumlah_desa',
                                 'desa_dengan_kampung_kb'] %}
        cast(agregat.{{ c }} as bigint) as {{ c }},
        {%- endfor %}
        cast(coalesce(instansi.jumlah_instansi, 0) as bigint) as jumlah_instansi,
        {{ persentase('agregat.pa_total', 'agregat.jml_pus') }} as cpr,
        {{ persentase('agregat.pa_mkjp', 'agregat.pa_total') }} as mkjp,
        {{ persentase('agregat.non_kb_unmet', 'agregat.jml_pus') }} as unmet_need,
        {{ persentase('agregat.ikut_bkb', 'agregat.kel_balita') }} as partisipasi_bkb,
        {{ persentase('agregat.ikut_bkr', 'agregat.kel_remaja') }} as partisipasi_bkr,
        {{ persentase('agregat.ikut_bkl', 'agregat.kel_lansia') }} as partisipasi_bkl,
        {{ persentase('agregat.ikut_uppka', 'agregat.jml_keluarga') }} as partisipasi_uppka,
        {{ persentase('agregat.ikut_pikr', 'agregat.jml_remaja') }} as partisipasi_pikr,
        {{ persentase('agregat.k', 'agregat.s') }} as k_s,
        {{ persentase('agregat.d', 'agregat.s') }} as d_s,
        {{ persentase('agregat.d', 'agregat.k') }} as d_k,
        {{ persentase('agregat.n', 'agregat.d') }} as n_d,
        {{ persentase('agregat.bgm', 'agregat.d') }} as bgm_d,
        {{ persentase('agregat.pendek + agregat.sangat_pendek', 'agregat.balita_diukur_tb') }} as stunting_skdn,
        {{ persentase('agregat.anak_pendek + agregat.anak_sangat_pendek', 'agregat.anak_diukur') }} as stunting,
        {{ persentase('agregat.keluarga_krs', 'agregat.keluarga_sasaran') }} as krs_rate,
        {{ persentase('agregat.jumlah_laporan', 'agregat.jumlah_kampung_kb_aktif') }} as kelengkapan_laporan,
        {{ persentase('agregat.jumlah_tepat_waktu', 'agregat.jumlah_laporan') }} as ketepatan_waktu,
        {{ persentase('agregat.kecamatan_dengan_kampung_kb', 'agregat.jumlah_kecamatan') }} as cakupan_kecamatan,
        {{ persentase('agregat.desa_dengan_kampung_kb', 'agregat.jumlah_desa') }} as cakupan_desa
    from agregat
    left join instansi
        on agregat.{{ code }} = instansi.{{ code }} and agregat.periode_key = instansi.periode_key

)

select * from final
{%- endmacro -%}
