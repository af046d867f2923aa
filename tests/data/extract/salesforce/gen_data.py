#!/usr/bin/env python3
"""gen_data.py OUTDIR [LEADS]: Salesforce query records for the fixture
server (one NDJSON file per object under OUTDIR/salesforce), the same on
every call. LEADS (default 450) sets the Lead count; the other objects are
sized so that every query of the integration test has more than one page
of 200 rows where it matters."""
import json
import os
import sys

out = os.path.join(sys.argv[1], "salesforce")
leads = int(sys.argv[2]) if len(sys.argv) > 2 else 450
os.makedirs(out, exist_ok=True)


def attrs(obj, rid):
    return {"type": obj, "url": "/services/data/v63.0/sobjects/%s/%s" % (obj, rid)}


def ts(day, sec):
    return "2026-03-%02dT%02d:%02d:%02d.000+0000" % (day, sec // 3600 % 24, sec // 60 % 60, sec % 60)


def write(name, rows):
    with open(os.path.join(out, name + ".ndjson"), "w") as f:
        for r in rows:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")


campaigns = [
    {"attributes": attrs("Campaign", "701C%014d" % i), "Id": "701C%014d" % i,
     "Name": name, "Type": typ, "IsDeleted": False, "SystemModstamp": ts(1, i)}
    for i, (name, typ) in enumerate([("Spring Webinar", "Webinar"), ("Newsletter", "Email"),
                                     ("Expo", "Trade Show")])
]
write("Campaign", campaigns)

write("Lead", [
    {"attributes": attrs("Lead", "00Q%015d" % i), "Id": "00Q%015d" % i,
     "Email": "lead%d@example.com" % i, "Status": "Open - Not Contacted",
     "OwnerId": "005O00000000001", "LeadSource": "Web",
     "CreatedDate": ts(1 + i % 20, i), "SystemModstamp": ts(2 + i % 20, i),
     "IsDeleted": i % 97 == 0, "IsConverted": i % 10 == 0,
     "ConvertedDate": "2026-03-%02d" % (3 + i % 20) if i % 10 == 0 else None,
     "ConvertedContactId": "003%015d" % i if i % 10 == 0 else None,
     "ConvertedOpportunityId": "006%015d" % i if i % 10 == 0 else None}
    for i in range(leads)
])

write("Contact", [
    {"attributes": attrs("Contact", "003%015d" % i), "Id": "003%015d" % i,
     "Email": "lead%d@example.com" % i, "OwnerId": "005O00000000001", "LeadSource": "Web",
     "CreatedDate": ts(3, i), "SystemModstamp": ts(3, i + 1), "IsDeleted": False}
    for i in range(0, 250, 10)
])

write("Opportunity", [
    {"attributes": attrs("Opportunity", "006%015d" % i), "Id": "006%015d" % i,
     "Name": "Deal %d" % i, "Amount": 1000 + i + 0.25, "StageName": "Closed Won" if i % 3 == 0 else "Prospecting",
     "IsClosed": i % 3 == 0, "IsWon": i % 3 == 0, "CloseDate": "2026-03-%02d" % (5 + i % 20),
     "CreatedDate": ts(4, i), "SystemModstamp": ts(5, i), "IsDeleted": False,
     "OpportunityContactRoles": {"totalSize": 1, "done": True, "records": [
         {"attributes": attrs("OpportunityContactRole", "00K%015d" % i),
          "ContactId": "003%015d" % (i - i % 10), "IsDeleted": False}]}}
    for i in range(250)
])

# roles of opportunities the Opportunity query returns: nothing to re-read
write("OpportunityContactRole", [
    {"attributes": attrs("OpportunityContactRole", "00K%015d" % i), "Id": "00K%015d" % i,
     "OpportunityId": "006%015d" % i, "ContactId": "003%015d" % (i - i % 10),
     "IsDeleted": False, "SystemModstamp": ts(6, i)}
    for i in range(0, 250, 50)
])

write("CampaignMember", [
    {"attributes": attrs("CampaignMember", "00v%015d" % i), "Id": "00v%015d" % i,
     "CampaignId": campaigns[i % 3]["Id"], "LeadId": "00Q%015d" % i, "ContactId": None,
     "Email": "lead%d@example.com" % i, "Status": "Responded" if i % 2 == 0 else "Sent",
     "HasResponded": i % 2 == 0, "FirstRespondedDate": "2026-03-%02d" % (1 + i % 25) if i % 2 == 0 else None,
     "IsDeleted": False, "SystemModstamp": ts(7, i)}
    for i in range(300)
])
