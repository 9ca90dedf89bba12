-- One row per family and PK round (tahun_pendataan): the family's PUS, contraceptive status and method, living
-- conditions, welfare decile and stunting-risk factors, as recorded in that round, plus the flags the indicators
-- count: is_ber_kb (contraceptive user), is_mkjp (long-acting or permanent method), is_sasaran (KRS target family).

with

pendataan as (

    select * from {{ ref('stg_landing__pk_keluarga') }}

),

final as (

    select
        {{ surrogate_key(['keluarga_id', 'tahun_pendataan']) }} as keluarga_pendataan_key,
        {{ surrogate_key(['keluarga_id']) }} as keluarga_key,
        keluarga_id,
        {{ wilayah_key('kode_desa') }} as wilayah_key,
        kode_desa,
        tahun_pendataan,

        jumlah_anggota,
        pus,
        usia_istri,
        jumlah_anak_hidup,
        status_kb,
        metode_kb,
        coalesce(status_kb = 'ber-KB', false) as is_ber_kb,
        coalesce(
            status_kb = 'ber-KB'
            and metode_kb in ('IUD', 'MOW', 'MOP', 'Implan'),
            false
        ) as is_mkjp,

        sumber_air_layak,
        jamban_layak,
        rumah_layak,
        desil,
        punya_baduta,
        punya_balita,
        pus_hamil,
        coalesce(pus = 1 or pus_hamil = 1 or punya_baduta = 1 or punya_balita = 1, false) as is_sasaran,
        krs,

        {{ fact_lineage() }}

    from pendataan

)

select * from final
