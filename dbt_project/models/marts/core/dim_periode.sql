-- One row per calendar month from January 2016 (the first Kampung KB) to December 2030.
-- The month attributes are generated here rather than with a date spine so the model needs no database round trip
-- at compile time and reads the same on every engine.

{%- set tahun_pertama = 2016 -%}
{%- set tahun_terakhir = 2030 -%}
{%- set nama_bulan = [
    'Januari', 'Februari', 'Maret', 'April', 'Mei', 'Juni',
    'Juli', 'Agustus', 'September', 'Oktober', 'November', 'Desember',
] %}

with

tahun as (

    select daftar_tahun.tahun
    from (
        values
        {%- for tahun in range(tahun_pertama, tahun_terakhir + 1) %}
            ({{ tahun }}){% if not loop.last %},{% endif %}
        {%- endfor %}
    ) as daftar_tahun (tahun)

),

bulan as (

    select
        daftar_bulan.bulan,
        daftar_bulan.nama_bulan,
        daftar_bulan.triwulan,
        daftar_bulan.semester
    from (
        values
        {%- for bulan in range(1, 13) %}
            ({{ bulan }}, '{{ nama_bulan[bulan - 1] }}', {{ (bulan - 1) // 3 + 1 }}, {{ (bulan - 1) // 6 + 1 }})
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    ) as daftar_bulan (bulan, nama_bulan, triwulan, semester)

),

periode as (

    select
        tahun.tahun,
        bulan.bulan,
        bulan.nama_bulan,
        bulan.triwulan,
        bulan.semester,
        {{ periode_awal('tahun.tahun', 'bulan.bulan') }} as tanggal_awal
    from tahun
    cross join bulan

),

final as (

    select
        {{ periode_key('tahun', 'bulan') }} as periode_key,
        cast(tahun as integer) as tahun,
        cast(bulan as integer) as bulan,
        cast(nama_bulan as {{ type_string() }}) as nama_bulan,
        cast(triwulan as integer) as triwulan,
        cast(semester as integer) as semester,
        tanggal_awal,
        {{ periode_akhir('tanggal_awal') }} as tanggal_akhir,
        {{ batas_lapor('tanggal_awal') }} as batas_lapor
    from periode

)

select * from final
