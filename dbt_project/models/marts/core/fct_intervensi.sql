-- One row per activity post (intervensi) of a Kampung KB, with the Kampung KB version valid on its date and the
-- desa of that version. Partner agencies and target groups are many-to-many: see bridge_intervensi_instansi and
-- bridge_intervensi_sasaran.

with

intervensi as (

    select * from {{ ref('stg_landing__intervensi') }}

),

kampung_kb as (

    select * from {{ ref('dim_kampung_kb') }}

),

joined as (

    select
        {{ surrogate_key(['intervensi.intervensi_id']) }} as intervensi_key,
        intervensi.intervensi_id,
        intervensi.kampung_kb_id,
        -- the version valid on the date; an activity dated before the Kampung KB's first version takes the first one
        coalesce(versi.kampung_kb_key, versi_pertama.kampung_kb_key) as kampung_kb_key,
        coalesce(versi.kode_desa, versi_pertama.kode_desa) as kode_desa,
        intervensi.tanggal,
        {{ periode_key('extract(year from intervensi.tanggal)', 'extract(month from intervensi.tanggal)') }}
            as periode_key,
        intervensi.judul,
        intervensi.tempat,
        intervensi.jenis_post,
        intervensi.fungsi_keluarga,
        intervensi.inpres_sasaran,
        {{ fact_lineage('intervensi') }}
    from intervensi
    left join kampung_kb as versi
        on
            intervensi.kampung_kb_id = versi.kampung_kb_id
            and intervensi.tanggal >= versi.valid_from
            and (intervensi.tanggal <= versi.valid_to or versi.valid_to is null)
    left join kampung_kb as versi_pertama
        on
            intervensi.kampung_kb_id = versi_pertama.kampung_kb_id
            and versi_pertama.version_number = 1
            and intervensi.tanggal < versi_pertama.valid_from

),

final as (

    select
        intervensi_key,
        intervensi_id,
        kampung_kb_id,
        kampung_kb_key,
        {{ wilayah_key('kode_desa') }} as wilayah_key,
        kode_desa,
        tanggal,
        periode_key,
        judul,
        tempat,
        jenis_post,
        fungsi_keluarga,
        inpres_sasaran,
        {{ fact_lineage() }}
    from joined

)

select * from final
