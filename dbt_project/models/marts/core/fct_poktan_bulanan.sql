-- One row per poktan group (BKB, BKR, BKL, UPPKA, PIK-R) and month: members, attendance and whether the group met,
-- with kehadiran = jumlah_hadir / jumlah_anggota x 100 (NULL for a group without members: nothing to measure).
-- Above the group, attendance is the ratio of the summed counts, never a mean of kehadiran.

with

poktan as (

    select * from {{ ref('stg_landing__poktan') }}

),

final as (

    select
        {{ surrogate_key(['kelompok_id', 'tahun', 'bulan']) }} as poktan_bulanan_key,
        kelompok_id,
        jenis_poktan,
        {{ wilayah_key('kode_desa') }} as wilayah_key,
        kode_desa,
        {{ periode_key('tahun', 'bulan') }} as periode_key,
        tahun,
        bulan,
        jumlah_anggota,
        jumlah_hadir,
        ada_pertemuan,
        {{ persentase('jumlah_hadir', 'jumlah_anggota') }} as kehadiran,
        {{ fact_lineage() }}
    from poktan

)

select * from final
