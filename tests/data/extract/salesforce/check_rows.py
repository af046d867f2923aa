#!/usr/bin/env python3
"""check_rows.py STAGING: field-by-field checks of rows that gen_data.py's
records map to (a converted lead, a deleted lead, a won opportunity with its
contact role, campaign member touches); exits non-zero with the row on a
mismatch."""
import glob
import json
import sys

rows = {}
for f in glob.glob(sys.argv[1] + "/crm/salesforce/*/*/*.ndjson"):
    for line in open(f):
        r = json.loads(line)
        rows[r.get("lead_id") or r.get("deal_id") or r.get("touch_id")] = r
lead = rows["00Q000000000000010"]
assert lead["crm_contact_id"] == "003000000000000010", lead
assert lead["converted_opportunity_id"] == "006000000000000010", lead
assert lead["email"] == "lead10@example.com", lead
assert rows["00Q000000000000097"]["is_deleted"] is True
deal = rows["006000000000000003"]
assert deal["amount_minor"] == 100325 and deal["is_won"] is True, deal
assert deal["contact_ids"] == ["003000000000000000"], deal
assert deal["closed_at"] == "2026-03-08T00:00:00Z", deal
touch = rows["campaign-member-00v000000000000002"]
assert touch["medium"] == "event" and touch["campaign"] == "Expo", touch
assert touch["at"] == "2026-03-03T00:00:00Z", touch
assert rows["campaign-member-00v000000000000004"]["medium"] == "email"
assert "campaign-member-00v000000000000001" not in rows
