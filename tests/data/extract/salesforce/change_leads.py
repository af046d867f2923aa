#!/usr/bin/env python3
"""change_leads.py LEAD_NDJSON: what happens in the CRM between two runs:
lead 5 is edited and 250 leads are created, all with one SystemModstamp
(the current second, as a mass update gives them)."""
import datetime
import json
import sys

now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
path = sys.argv[1]
rows = [json.loads(line) for line in open(path)]
rows[5]["Email"] = "changed5@example.com"
rows[5]["SystemModstamp"] = now
for i in range(250):
    rid = "00QN%014d" % i
    rows.append({"attributes": {"type": "Lead", "url": "/services/data/v63.0/sobjects/Lead/" + rid},
                 "Id": rid, "Email": "new%d@example.com" % i, "Status": "Open - Not Contacted",
                 "CreatedDate": now, "SystemModstamp": now, "IsDeleted": False,
                 "IsConverted": False})
with open(path, "w") as f:
    for r in rows:
        f.write(json.dumps(r, separators=(",", ":")) + "\n")
