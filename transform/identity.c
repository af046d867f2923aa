/*
 * identity.c: person indexes as compressed rows (an offsets array plus one
 * array of members), built in two passes: count, then fill. Two uint32 per
 * touch is all the memory the indexes cost.
 */
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "log.h"
#include "txutil.h"

#define NO_ID UINT32_MAX

void
touchlist_free(TouchList *l)
{
	free(l->items);
	l->items = NULL;
	l->n = 0;
	l->cap = 0;
}

static bool
touchlist_push(TouchList *l, const Touch *t)
{
	const Touch **grown = tx_grow(l->items, &l->cap, l->n + 1, sizeof(const Touch *));

	if (grown == NULL)
		return false;
	l->items = grown;
	l->items[l->n++] = t;
	return true;
}

int
touch_order(const Touch *a, const Touch *b)
{
	int c = TX_CMP(a->at, b->at);

	if (c == 0)
		c = strcmp(a->touch_id, b->touch_id);
	if (c == 0)
		c = strcmp(a->source_system, b->source_system);
	return c;
}

static int
touch_ptr_cmp(const void *a, const void *b)
{
	return touch_order(*(const Touch *const *) a, *(const Touch *const *) b);
}

/*
 * lead_first: the lead that stands for a contact or an email when several
 * share it: the earliest created (leads without created_at last), then by
 * (source_system, lead_id), so the choice does not depend on input order.
 */
static bool
lead_first(const Lead *a, const Lead *b)
{
	int c;

	if (a->created_at != b->created_at)
	{
		if (a->created_at == TX_TIME_NONE)
			return false;
		if (b->created_at == TX_TIME_NONE)
			return true;
		return a->created_at < b->created_at;
	}
	c = strcmp(a->source_system, b->source_system);
	if (c == 0)
		c = strcmp(a->lead_id, b->lead_id);
	return c < 0;
}

/*
 * csr_finish_counts turns counts (n of them, in off[1..n]) into offsets
 * and allocates the member array and a fill cursor (a copy of the offsets).
 * Both are ALLOCATED: members belongs to the index, the caller frees cursor.
 */
static bool
csr_finish_counts(uint32_t *off, size_t n, uint32_t **members, uint32_t **cursor)
{
	for (size_t i = 0; i < n; i++)
		off[i + 1] += off[i];
	*members = malloc(((size_t) off[n] + 1) * sizeof(uint32_t));
	*cursor = malloc((n + 1) * sizeof(uint32_t));
	if (*members == NULL || *cursor == NULL)
	{
		log_error("out of memory building the identity index");
		return false;
	}
	memcpy(*cursor, off, (n + 1) * sizeof(uint32_t));
	return true;
}

static uint32_t
contact_of(const Identity *id, const char *crm)
{
	uint32_t c;

	if (crm == NULL || !ptrindex_find(&id->contacts, crm, &c))
		return NO_ID;
	return c;
}

static uint32_t
email_of(const Identity *id, const char *email)
{
	uint32_t e;

	if (email == NULL || !ptrindex_find(&id->emails, email, &e))
		return NO_ID;
	return e;
}

/* index_people numbers the known contacts and the emails of leads. */
static bool
index_people(const Dataset *ds, Identity *id)
{
	uint32_t x;

	for (size_t i = 0; i < ds->n_leads; i++)
	{
		const Lead *l = &ds->leads[i];

		if (l->is_deleted)
			continue;
		if (l->crm_contact_id != NULL && !ptrindex_add(&id->contacts, l->crm_contact_id, &x))
			return false;
		if (l->email != NULL && !ptrindex_add(&id->emails, l->email, &x))
			return false;
	}
	for (size_t i = 0; i < ds->n_deals; i++)
	{
		const Deal *d = &ds->deals[i];

		if (d->is_deleted)
			continue;
		for (uint32_t j = 0; j < d->n_contacts; j++)
		{
			if (!ptrindex_add(&id->contacts, d->contact_ids[j], &x))
				return false;
		}
	}
	return true;
}

/* index_leads: the leads of each contact, and the first lead of each
 * contact and email. */
static bool
index_leads(const Dataset *ds, Identity *id)
{
	size_t nc = id->contacts.count;
	size_t ne = id->emails.count;
	uint32_t *cursor = NULL;
	bool ok = false;

	id->contact_leads_off = calloc(nc + 1, sizeof(uint32_t));
	id->contact_lead = malloc((nc + 1) * sizeof(int32_t));
	id->email_lead = malloc((ne + 1) * sizeof(int32_t));
	if (id->contact_leads_off == NULL || id->contact_lead == NULL || id->email_lead == NULL)
	{
		log_error("out of memory building the identity index");
		goto cleanup;
	}
	for (size_t c = 0; c < nc; c++)
		id->contact_lead[c] = -1;
	for (size_t e = 0; e < ne; e++)
		id->email_lead[e] = -1;
	for (size_t i = 0; i < ds->n_leads; i++)
	{
		uint32_t c = ds->leads[i].is_deleted ? NO_ID : contact_of(id, ds->leads[i].crm_contact_id);

		if (c != NO_ID)
			id->contact_leads_off[c + 1]++;
	}
	if (!csr_finish_counts(id->contact_leads_off, nc, &id->contact_leads, &cursor))
		goto cleanup;
	for (size_t i = 0; i < ds->n_leads; i++)
	{
		const Lead *l = &ds->leads[i];
		uint32_t c;
		uint32_t e;

		if (l->is_deleted)
			continue;
		c = contact_of(id, l->crm_contact_id);
		e = email_of(id, l->email);
		if (c != NO_ID)
		{
			id->contact_leads[cursor[c]++] = (uint32_t) i;
			if (id->contact_lead[c] < 0 || lead_first(l, &ds->leads[id->contact_lead[c]]))
				id->contact_lead[c] = (int32_t) i;
		}
		if (e != NO_ID && (id->email_lead[e] < 0 || lead_first(l, &ds->leads[id->email_lead[e]])))
			id->email_lead[e] = (int32_t) i;
	}
	ok = true;

cleanup:
	free(cursor);
	return ok;
}

/*
 * touch_person: the contact of a touch when its crm_id is known, else the
 * lead email it carries; both NO_ID when it belongs to nobody.
 */
static void
touch_person(const Identity *id, const Touch *t, uint32_t *contact, uint32_t *email)
{
	*contact = contact_of(id, t->crm_id);
	*email = *contact == NO_ID ? email_of(id, t->email) : NO_ID;
}

/*
 * index_touches files each touch under exactly one person key (its contact,
 * else its email), so a lookup never has to decide precedence again.
 */
static bool
index_touches(const Dataset *ds, Identity *id)
{
	size_t nc = id->contacts.count;
	size_t ne = id->emails.count;
	uint32_t *ccur = NULL;
	uint32_t *ecur = NULL;
	bool ok = false;

	id->contact_touches_off = calloc(nc + 1, sizeof(uint32_t));
	id->email_touches_off = calloc(ne + 1, sizeof(uint32_t));
	id->touch_lead = malloc((ds->n_touches + 1) * sizeof(int32_t));
	if (id->contact_touches_off == NULL || id->email_touches_off == NULL || id->touch_lead == NULL)
	{
		log_error("out of memory building the identity index");
		goto cleanup;
	}
	if (nc + ne >= INT32_MAX)
	{
		log_error("%zu contacts and %zu lead emails are more than the identity index holds",
				  nc, ne);
		goto cleanup;
	}
	/*
	 * The first pass counts and, to save the two hash lookups per touch a
	 * second pass would repeat, parks each touch's person in touch_lead:
	 * contact c as c, email e as nc + e, nobody as -1.
	 */
	for (size_t i = 0; i < ds->n_touches; i++)
	{
		uint32_t c;
		uint32_t e;

		touch_person(id, &ds->touches[i], &c, &e);
		id->touch_lead[i] = -1;
		if (c != NO_ID)
		{
			id->contact_touches_off[c + 1]++;
			id->touch_lead[i] = (int32_t) c;
		}
		else if (e != NO_ID)
		{
			id->email_touches_off[e + 1]++;
			id->touch_lead[i] = (int32_t) (nc + e);
		}
	}
	if (!csr_finish_counts(id->contact_touches_off, nc, &id->contact_touches, &ccur)
		|| !csr_finish_counts(id->email_touches_off, ne, &id->email_touches, &ecur))
		goto cleanup;
	for (size_t i = 0; i < ds->n_touches; i++)
	{
		int32_t person = id->touch_lead[i];

		if (person < 0)
			continue;
		if ((size_t) person < nc)
		{
			id->contact_touches[ccur[person]++] = (uint32_t) i;
			id->touch_lead[i] = id->contact_lead[person];
		}
		else
		{
			size_t e = (size_t) person - nc;

			id->email_touches[ecur[e]++] = (uint32_t) i;
			id->touch_lead[i] = id->email_lead[e];
		}
		id->touches_matched++;
	}
	ok = true;

cleanup:
	free(ccur);
	free(ecur);
	return ok;
}

bool
identity_build(const Dataset *ds, Identity *id)
{
	id->ds = ds;
	if (!index_people(ds, id) || !index_leads(ds, id) || !index_touches(ds, id))
		return false;   /* errors have already been logged */
	log_info("identity: %zu contacts, %zu lead emails, %zu of %zu touches belong to a person",
			 id->contacts.count, id->emails.count, id->touches_matched, ds->n_touches);
	return true;
}

/*
 * identity_free leaves the struct zeroed so a second call is harmless.
 */
void
identity_free(Identity *id)
{
	ptrindex_free(&id->contacts);
	ptrindex_free(&id->emails);
	free(id->contact_leads_off);
	free(id->contact_leads);
	free(id->contact_touches_off);
	free(id->contact_touches);
	free(id->email_touches_off);
	free(id->email_touches);
	free(id->contact_lead);
	free(id->email_lead);
	free(id->touch_lead);
	memset(id, 0, sizeof(*id));
}

/* add_range appends the touches members[off[k]..off[k+1]) within [lo, hi]. */
static bool
add_range(const Identity *id, const uint32_t *off, const uint32_t *members, uint32_t k,
		  ClTime lo, ClTime hi, TouchList *out)
{
	for (uint32_t i = off[k]; i < off[k + 1]; i++)
	{
		const Touch *t = &id->ds->touches[members[i]];

		if (t->at >= lo && t->at <= hi && !touchlist_push(out, t))
		{
			log_error("out of memory collecting a journey");
			return false;
		}
	}
	return true;
}

/*
 * add_contact: the touches of one contact: those with its crm_id, and those
 * carrying the email of one of its leads.
 */
static bool
add_contact(const Identity *id, uint32_t c, ClTime lo, ClTime hi, TouchList *out)
{
	if (!add_range(id, id->contact_touches_off, id->contact_touches, c, lo, hi, out))
		return false;
	for (uint32_t i = id->contact_leads_off[c]; i < id->contact_leads_off[c + 1]; i++)
	{
		uint32_t e = email_of(id, id->ds->leads[id->contact_leads[i]].email);

		if (e != NO_ID && !add_range(id, id->email_touches_off, id->email_touches, e, lo, hi, out))
			return false;
	}
	return true;
}

/*
 * identity_touches: a touch can be reached twice (two contacts of a deal
 * sharing an email), so the list is sorted and repeats dropped.
 */
bool
identity_touches(const Identity *id, const char *const *contacts, uint32_t n,
				 const char *email, ClTime lo, ClTime hi, TouchList *out)
{
	size_t w = 0;

	out->n = 0;
	for (uint32_t i = 0; i < n; i++)
	{
		uint32_t c = contact_of(id, contacts[i]);

		if (c != NO_ID && !add_contact(id, c, lo, hi, out))
			return false;
	}
	if (n == 0)
	{
		uint32_t e = email_of(id, email);

		if (e != NO_ID && !add_range(id, id->email_touches_off, id->email_touches, e, lo, hi, out))
			return false;
	}
	if (out->n > 1)
		qsort(out->items, out->n, sizeof(const Touch *), touch_ptr_cmp);
	for (size_t i = 0; i < out->n; i++)
	{
		if (w > 0 && out->items[w - 1] == out->items[i])
			continue;
		out->items[w++] = out->items[i];
	}
	out->n = w;
	return true;
}

bool
identity_lead_touches(const Identity *id, const Lead *lead, ClTime lo, ClTime hi,
					  TouchList *out)
{
	const char *contact = lead->crm_contact_id;

	if (contact != NULL)
		return identity_touches(id, &contact, 1, NULL, lo, hi, out);
	return identity_touches(id, NULL, 0, lead->email, lo, hi, out);
}

const Lead *
identity_touch_lead(const Identity *id, const Touch *t)
{
	size_t i = (size_t) (t - id->ds->touches);
	int32_t l = id->touch_lead[i];

	return l < 0 ? NULL : &id->ds->leads[l];
}

/*
 * identity_contacts_first_created reads created_at of every lead of the
 * contacts, deleted ones excepted (they are not in the index).
 */
ClTime
identity_contacts_first_created(const Identity *id, const char *const *contacts, uint32_t n)
{
	ClTime first = TX_TIME_NONE;

	for (uint32_t i = 0; i < n; i++)
	{
		uint32_t c = contact_of(id, contacts[i]);

		if (c == NO_ID)
			continue;
		for (uint32_t k = id->contact_leads_off[c]; k < id->contact_leads_off[c + 1]; k++)
		{
			ClTime t = id->ds->leads[id->contact_leads[k]].created_at;

			if (t != TX_TIME_NONE && (first == TX_TIME_NONE || t < first))
				first = t;
		}
	}
	return first;
}

/*
 * identity_person_key: a lead with a contact id is that contact; one
 * without is its email, shared by every such lead with that email.
 */
bool
identity_person_key(const Identity *id, const Lead *lead, uint32_t *key, bool *first)
{
	const Lead *leads = id->ds->leads;
	int32_t self = (int32_t) (lead - leads);
	uint32_t c;
	uint32_t e;

	*first = false;
	if (lead->is_deleted)
		return false;
	c = contact_of(id, lead->crm_contact_id);
	if (c != NO_ID)
	{
		*key = c;
		*first = id->contact_lead[c] == self;
		return true;
	}
	e = email_of(id, lead->email);
	if (e == NO_ID)
		return false;
	*key = (uint32_t) id->contacts.count + e;
	*first = id->email_lead[e] == self;
	return true;
}

bool
identity_contact_key(const Identity *id, const char *contact, uint32_t *key)
{
	uint32_t c = contact_of(id, contact);

	if (c == NO_ID)
		return false;
	*key = c;
	return true;
}

uint32_t
identity_n_person_keys(const Identity *id)
{
	return (uint32_t) (id->contacts.count + id->emails.count);
}
