-- One row per Kampung KB version (SCD type 2: valid_from and valid_to both inclusive, valid_to NULL while current).
-- The versions come from the profile history (sumber = 'profil': pokja, rumah dataku, poktan, funding ...); months a
-- Kampung KB reported before its first profile are covered by versions derived from its reports (sumber =
-- 'laporan', NULL profile attributes). See int_kampung_kb__versions.

with

versions as (

    select * from {{ ref('int_kampung_kb__versions') }}

),

final as (

    select
        kampung_kb_key,
        kampung_kb_id,
        kode_desa,
        {{ wilayah_key('kode_desa') }} as wilayah_key,
        valid_from,
        valid_to,
        is_current,
        version_number,
        sumber,

        nama_kampung,
        rw,
        cakupan_wilayah,
        tanggal_pencanangan,
        latitude,
        longitude,

        pokja_ada = 1 as pokja_ada,
        pokja_sk_ada = 1 as pokja_sk_ada,
        pokja_jumlah,
        pokja_terlatih_ada = 1 as pokja_terlatih_ada,
        pokja_jumlah_terlatih,
        plkb_pendamping_ada = 1 as plkb_pendamping_ada,
        regulasi_ada = 1 as regulasi_ada,
        regulasi_jenis,
        rkm_ada = 1 as rkm_ada,
        sekretariat_ada = 1 as sekretariat_ada,
        rumah_dataku_ada = 1 as rumah_dataku_ada,
        rumah_dataku_klasifikasi,

        poktan_bkb = 1 as poktan_bkb,
        poktan_bkr = 1 as poktan_bkr,
        poktan_bkl = 1 as poktan_bkl,
        poktan_uppka = 1 as poktan_uppka,
        poktan_pikr = 1 as poktan_pikr,
        cast(poktan_bkb + poktan_bkr + poktan_bkl + poktan_uppka + poktan_pikr as integer) as jumlah_poktan,

        cast(jumlah_sumber_dana as integer) as jumlah_sumber_dana,
        cast(jumlah_penggunaan_data as integer) as jumlah_penggunaan_data,
        cast(jumlah_mekanisme_operasional as integer) as jumlah_mekanisme_operasional,

        is_active = 1 as is_active
    from versions

)

select * from final
