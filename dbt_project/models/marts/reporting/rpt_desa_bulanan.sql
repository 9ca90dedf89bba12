-- One row per desa and month: every indicator of DOMAIN.md section 4 (see macros/rpt_wilayah.sql).

{{ rpt_wilayah_bulanan('desa') }}
