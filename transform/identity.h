/*
 * identity.h: which touches belong to which people.
 *
 * A person is a CRM contact (keyed by its contact id) with the normalised
 * emails of the leads that carry that contact id; a lead without a contact
 * id is a person of its own, known by its email.
 *
 * A touch belongs to a person by person.crm_id when that id is a known
 * contact (some lead's crm_contact_id or some deal's contact id); otherwise
 * by its email, to every person having that email. So a touch whose crm_id
 * matches no contact still counts for a deal whose contacts have its email,
 * and a touch with a known crm_id counts for that contact only.
 *
 * Deleted leads and deals take no part.
 */
#ifndef CL_IDENTITY_H
#define CL_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataset.h"
#include "indexmap.h"

typedef struct Identity
{
	const Dataset *ds;          /* borrowed */
	PtrIndex contacts;          /* contact id -> dense id */
	PtrIndex emails;            /* lead email -> dense id */
	uint32_t *contact_leads_off;    /* owned CSR: leads of each contact */
	uint32_t *contact_leads;
	uint32_t *contact_touches_off;  /* owned CSR: touches by known crm_id */
	uint32_t *contact_touches;
	uint32_t *email_touches_off;    /* owned CSR: the other touches, by email */
	uint32_t *email_touches;
	int32_t *contact_lead;      /* owned: each contact's first lead, -1 none */
	int32_t *email_lead;        /* owned: each email's first lead, -1 none */
	int32_t *touch_lead;        /* owned: the lead of each touch's person, -1 */
	size_t touches_matched;     /* touches that belong to somebody */
} Identity;

/* A growable list of touches (pointers into the dataset). */
typedef struct TouchList
{
	const Touch **items;        /* owned array of borrowed touches */
	size_t n;
	size_t cap;
} TouchList;

void touchlist_free(TouchList *l);

/* identity_build indexes ds (borrowed; must outlive id, which must be
 * zeroed). false when out of memory (logged). */
bool identity_build(const Dataset *ds, Identity *id);
void identity_free(Identity *id);

/*
 * identity_touches replaces the contents of out with the touches of the
 * people given by contacts (n contact ids), or by email alone when
 * contacts is empty, whose time is in [lo, hi], ordered by (at, touch_id,
 * source_system), each touch once. false when out of memory (logged).
 */
bool identity_touches(const Identity *id, const char *const *contacts, uint32_t n,
					  const char *email, ClTime lo, ClTime hi, TouchList *out);

/* identity_lead_touches: the same for the person of a lead. */
bool identity_lead_touches(const Identity *id, const Lead *lead, ClTime lo, ClTime hi,
						   TouchList *out);

/*
 * identity_contacts_first_created: the earliest created_at of the leads of
 * the given contacts; TX_TIME_NONE when none of them has one.
 */
ClTime identity_contacts_first_created(const Identity *id, const char *const *contacts,
									   uint32_t n);

/*
 * identity_person_key: a lead's person, as a dense key (contacts first,
 * then emails), and whether the lead is the first lead of that person (the
 * one that stands for it). false when the lead has neither contact nor
 * email, or is deleted.
 */
bool identity_person_key(const Identity *id, const Lead *lead, uint32_t *key, bool *first);

/* identity_contact_key: the person key of a contact id; false when unknown. */
bool identity_contact_key(const Identity *id, const char *contact, uint32_t *key);

/* identity_n_person_keys: the number of person keys. */
uint32_t identity_n_person_keys(const Identity *id);

/* identity_touch_lead: the lead of a touch's person, NULL when none. */
const Lead *identity_touch_lead(const Identity *id, const Touch *t);

/* touch_order: the journey order, (at, touch_id, source_system). */
int touch_order(const Touch *a, const Touch *b);

#endif
