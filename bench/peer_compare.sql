-- peer_compare.sql: the SQL peer's credits (peer.credit) against
-- cl-transform's as cl-load loaded them (attribution.attribution_credit),
-- row by row on (model, deal, touch). Prints one line: rows only in
-- cl-transform's output, rows only in the peer's, rows in both whose values
-- differ, and all rows of the full join. Not part of any timing.
SELECT count(*) FILTER (WHERE p.model IS NULL) AS only_transform,
	count(*) FILTER (WHERE a.model IS NULL) AS only_peer,
	count(*) FILTER (WHERE p.model IS NOT NULL AND a.model IS NOT NULL
		AND (p.revenue, p.revenue_reporting, p.weight, p.channel, p.source, p.medium,
			 p.campaign, p.touch_position, p.journey_length, p.touch_at,
			 coalesce(p.lead_id, ''), p.close_date, p.currency)
		IS DISTINCT FROM (a.revenue, a.revenue_reporting, a.weight, a.channel,
			 coalesce(a.source, ''), coalesce(a.medium, ''), coalesce(a.campaign, ''),
			 a.touch_position, a.journey_length, a.touch_at, coalesce(a.lead_id, ''),
			 a.close_date, a.currency)) AS differ,
	count(*) AS total
FROM peer.credit p
FULL JOIN attribution.attribution_credit a
	ON a.model = p.model AND a.deal_id = p.deal_id AND a.deal_source_system = p.deal_source_system
	AND coalesce(a.touch_id, '') = coalesce(p.touch_id, '')
	AND coalesce(a.touch_source_system, '') = coalesce(p.touch_source_system, '');
