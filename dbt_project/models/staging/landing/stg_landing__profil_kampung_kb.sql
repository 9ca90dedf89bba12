-- The Kampung KB profile, one row per Kampung KB and month (a version of its profile), typed.
-- A profile sent again for the same Kampung KB and month replaces the earlier one: the latest ingest batch, then
-- file and row (all descending) wins. Older months stay: they are the history dim_kampung_kb versions on.

with

source as (

    select * from {{ source('landing', 'profil_kampung_kb') }}

),

renamed as (

    select
        -- ids
        cast(kampung_kb_id as bigint) as kampung_kb_id,
        cast(nama_kampung as {{ type_string() }}) as nama_kampung,
        cast(kode_desa as {{ type_string() }}) as kode_desa,
        cast(rw as {{ type_string() }}) as rw,
        cast(cakupan_wilayah as {{ type_string() }}) as cakupan_wilayah,
        cast(tanggal_pencanangan as date) as tanggal_pencanangan,
        cast(latitude as {{ type_double() }}) as latitude,
        cast(longitude as {{ type_double() }}) as longitude,

        -- period of the version
        cast(tahun as integer) as tahun,
        cast(bulan as integer) as bulan,

        -- pokja and institutions
        cast(pokja_ada as integer) as pokja_ada,
        cast(pokja_sk_ada as integer) as pokja_sk_ada,
        cast(pokja_jumlah as integer) as pokja_jumlah,
        cast(pokja_terlatih_ada as integer) as pokja_terlatih_ada,
        cast(pokja_jumlah_terlatih as integer) as pokja_jumlah_terlatih,
        cast(plkb_pendamping_ada as integer) as plkb_pendamping_ada,
        cast(regulasi_ada as integer) as regulasi_ada,
        cast(regulasi_jenis as integer) as regulasi_jenis,
        cast(rkm_ada as integer) as rkm_ada,
        cast(sekretariat_ada as integer) as sekretariat_ada,
        cast(rumah_dataku_ada as integer) as rumah_dataku_ada,
        cast(rumah_dataku_klasifikasi as {{ type_string() }}) as rumah_dataku_klasifikasi,

        -- poktan groups present (0/1)
        cast(poktan_bkb as integer) as poktan_bkb,
        cast(poktan_bkr as integer) as poktan_bkr,
        cast(poktan_bkl as integer) as poktan_bkl,
        cast(poktan_uppka as integer) as poktan_uppka,
        cast(poktan_pikr as integer) as poktan_pikr,

        -- lists
        cast(sumber_dana as {{ type_string_list() }}) as sumber_dana,
        cast(penggunaan_data as {{ type_string_list() }}) as penggunaan_data,
        cast(mekanisme_operasional as {{ type_string_list() }}) as mekanisme_operasional,

        cast(is_active as integer) as is_active,

        -- lineage
        cast(_file as {{ type_string() }}) as _file,
        cast(_file_sha256 as {{ type_string() }}) as _file_sha256,
        cast(_row as integer) as _row,
        cast(_sheet as {{ type_string() }}) as _sheet,
        cast(_batch as {{ type_string() }}) as _batch,
        cast(_ingested_at as timestamp) as _ingested_at

    from source

),

latest as (

    {{ latest_submission('renamed', 'kampung_kb_id, tahun, bulan') }}

)

select * from latest
