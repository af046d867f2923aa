# load_gen.awk: writes a synthetic attribution_credit.copy for
# bench/load_bench.sh: ROWS rows (-v rows=N) of won deals whose close dates
# spread evenly over the window [-v from=YYYY-MM-DD, -v days=D), in the
# column order of docs/DATA_MODEL.md. Each deal has a journey of 1..6 touches
# and is credited by five models, like a real output; the values are
# deterministic (no randomness), so two runs write the same bytes.
BEGIN {
	OFS = "\t"
	split("first_touch last_touch linear position_based time_decay", models, " ")
	split("Paid Search,Paid Social,Email,Organic Search,Direct,Referral,Display", channels, ",")
	split("google facebook newsletter google (direct) partner.example dv360", sources, " ")
	split("cpc paid_social email organic (none) referral display", media, " ")
	split(from, ymd, "-")
	# days since 1970-01-01 of the window's first day (civil-from-days inverse)
	y = ymd[1] + 0; m = ymd[2] + 0; d = ymd[3] + 0
	if (m <= 2) { y--; m += 12 }
	start = 365 * y + int(y / 4) - int(y / 100) + int(y / 400) + int((153 * (m - 3) + 2) / 5) + d - 719469
	n = 0
	deal = 0
	while (n < rows) {
		deal++
		len = deal % 6 + 1
		day = start + deal % days
		# civil date of day (Howard Hinnant's algorithm)
		z = day + 719468
		era = int(z / 146097)
		doe = z - era * 146097
		yoe = int((doe - int(doe / 1460) + int(doe / 36524) - int(doe / 146096)) / 365)
		yy = yoe + era * 400
		doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100))
		mp = int((5 * doy + 2) / 153)
		dd = doy - int((153 * mp + 2) / 5) + 1
		mm = mp < 10 ? mp + 3 : mp - 9
		if (mm <= 2) yy++
		cdate = sprintf("%04d-%02d-%02d", yy, mm, dd)
		amount = 1000 + (deal * 37) % 9000
		for (mi = 1; mi <= 5 && n < rows; mi++) {
			for (pos = 1; pos <= len && n < rows; pos++) {
				c = (deal + pos) % 7 + 1
				w = sprintf("%.12f", 1 / len)
				rev = sprintf("%.2f", amount / len)
				print models[mi], "D" deal, "hubspot", "T" deal "-" pos, "hubspot", "L" deal,
					cdate " 0" (pos % 10) ":00:00+00", cdate, channels[c], sources[c], media[c],
					"campaign-" (deal % 50), pos, len, w, rev, "USD", rev, "USD"
				n++
			}
		}
	}
}
