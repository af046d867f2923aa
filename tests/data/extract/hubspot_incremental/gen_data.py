#!/usr/bin/env python3
"""gen_data.py OUTDIR: HubSpot records for the fixture server under
OUTDIR/hubspot (120 contacts, 3 deals, an archived contact and deal of long
ago, the deal pipelines, each contact's v1 profile with its form
submissions: two for contact 100, none for the others), the same on every
call; or gen_data.py --change
OUTDIR: what happens in the portal between two runs: contact 7 is edited,
130 contacts are created, all with one lastmodifieddate (the current
millisecond, as an import gives them), contact 8 and deal 901 are
archived (contact 5000 with a form submission), deal 902 is edited and deals 903 and 904 are created (the
search returns no associations: their contacts are in
deal-contacts.json, the v4 batch read's answer, which also names deal
900, not asked for)."""
import datetime
import json
import os
import sys


def contact(cid, modified, email):
    return {"id": str(cid), "properties": {
        "email": email, "createdate": "2026-03-01T08:00:00Z", "lastmodifieddate": modified,
        "lifecyclestage": "lead", "hs_analytics_source": "DIRECT_TRAFFIC"},
        "createdAt": "2026-03-01T08:00:00Z", "updatedAt": modified, "archived": False}


def deal(i):
    return {"id": str(900 + i), "properties": {
        "dealname": "Deal %d" % i, "amount": "100.00", "dealstage": "closedwon", "pipeline": "default",
        "closedate": "2026-03-10T00:00:00Z", "createdate": "2026-03-01T00:00:00Z",
        "hs_lastmodifieddate": "2026-03-10T00:00:00Z"},
        "associations": {"contacts": {"results": [{"id": str(100 + i), "type": "deal_to_contact"}]}},
        "archived": False}


def profile(out, cid, submissions=()):
    with open(os.path.join(out, "profile-%d.json" % cid), "w") as f:
        json.dump({"vid": cid, "form-submissions": list(submissions)}, f)


def write(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")


def now_ms():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:23] + "Z"


def archive(row, at):
    row = dict(row)
    row["archived"] = True
    row["archivedAt"] = at
    return row


if sys.argv[1] == "--change":
    out = os.path.join(sys.argv[2], "hubspot")
    now = now_ms()
    path = os.path.join(out, "contacts-archived-false.ndjson")
    rows = [json.loads(line) for line in open(path)]
    gone = rows.pop(8)
    rows[7] = contact(rows[7]["id"], now, "changed7@example.com")
    rows += [contact(5000 + i, now, "new%d@example.com" % i) for i in range(130)]
    for i in range(1, 130):
        profile(out, 5000 + i)
    profile(out, 5000, [{"conversion-id": "conv-b", "timestamp": 1772618400000, "form-id": "f1",
                         "title": "Demo", "page-url": "https://example.com/demo?utm_source=google"
                         "&utm_medium=cpc&utm_campaign=brand&utm_term=crm+tool&utm_content=ad%201"}])
    write(path, rows)
    with open(os.path.join(out, "contacts-archived-true.ndjson"), "a") as f:
        f.write(json.dumps(archive(gone, now), separators=(",", ":")) + "\n")
    path = os.path.join(out, "deals-archived-false.ndjson")
    deals = [json.loads(line) for line in open(path)]
    write(path, [d for d in deals if d["id"] != "901"])
    with open(os.path.join(out, "deals-archived-true.ndjson"), "a") as f:
        f.write(json.dumps(archive([d for d in deals if d["id"] == "901"][0], now),
                           separators=(",", ":")) + "\n")
    deals = [d for d in deals if d["id"] != "901"]
    for d in deals:
        if d["id"] == "902":
            d["properties"]["amount"] = "250.00"
            d["properties"]["hs_lastmodifieddate"] = now
    for i in (3, 4):
        d = deal(i)
        del d["associations"]
        d["properties"]["hs_lastmodifieddate"] = now
        deals.append(d)
    write(path, deals)

    def to(*ids):
        return [{"toObjectId": c, "associationTypes": [
            {"category": "HUBSPOT_DEFINED", "typeId": 3, "label": None}]} for c in ids]
    with open(os.path.join(out, "deal-contacts.json"), "w") as f:
        json.dump({"status": "COMPLETE", "results": [
            {"from": {"id": "900"}, "to": to(100)},
            {"from": {"id": "902"}, "to": to(102, 5003)},
            {"from": {"id": "903"}, "to": to(5001, 5002) + [
                {"toObjectId": 5001, "associationTypes": [
                    {"category": "USER_DEFINED", "typeId": 7, "label": "Buyer"}]}]}],
            "startedAt": now, "completedAt": now}, f)
    sys.exit(0)

out = os.path.join(sys.argv[1], "hubspot")
os.makedirs(out, exist_ok=True)
write(os.path.join(out, "contacts-archived-false.ndjson"),
      [contact(100 + i, "2026-03-%02dT10:00:00.000Z" % (2 + i % 20), "c%d@example.com" % i)
       for i in range(120)])
for i in range(1, 120):
    profile(out, 100 + i)
profile(out, 100, [
    {"conversion-id": "conv-a", "timestamp": 1772445600000, "form-id": "f1", "title": "Demo",
     "page-url": "https://example.com/demo?utm_source=newsletter&utm_medium=email"
     "&utm_campaign=spring%20launch"},
    {"timestamp": 1772532000000, "form-id": "f2", "title": "Contact",
     "page-url": "https://example.com/contact"}])
write(os.path.join(out, "contacts-archived-true.ndjson"),
      [archive(contact(99, "2026-01-02T10:00:00.000Z", "old@example.com"), "2026-01-03T10:00:00.000Z")])
deals = [deal(i) for i in range(3)]
write(os.path.join(out, "deals-archived-false.ndjson"), deals)
write(os.path.join(out, "deals-archived-true.ndjson"),
      [archive(dict(deals[0], id="899"), "2026-01-03T10:00:00.000Z")])
with open(os.path.join(out, "pipelines.json"), "w") as f:
    json.dump({"results": [{"id": "default", "label": "Sales", "stages": [
        {"id": "closedwon", "label": "Won", "metadata": {"isClosed": "true", "probability": "1.0"}},
        {"id": "closedlost", "label": "Lost", "metadata": {"isClosed": "true", "probability": "0.0"}}]}]}, f)
