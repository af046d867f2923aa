/*
 * channels.h: channel grouping of (source, medium) by ordered rules
 * (DESIGN §4 "Default channel grouping", [channels] in the configuration).
 *
 * Rules are tried in order and the first match wins: the rules of
 * [channels] rules_file first, then the ten default rules unless
 * [channels] defaults = false; a value no rule matches is "Other". Matching
 * is on the trimmed, lower-cased source and medium; an absent value
 * matches as "".
 *
 * The rules file is TAB-separated: channel, source regex, medium regex.
 * The regexes are POSIX extended, case-insensitive and must match the whole
 * value; an empty regex matches any value. Blank lines and lines starting
 * with '#' are ignored.
 */
#ifndef CL_CHANNELS_H
#define CL_CHANNELS_H

#include <stdbool.h>

#include "dataset.h"
#include "exitcode.h"
#include "strpool.h"

#define CHANNEL_NONE "(none)"     /* a deal or lead without touches */
#define CHANNEL_OTHER "Other"

typedef struct ChannelRules ChannelRules;

/*
 * channels_load compiles the rules; rules_file may be NULL. Channel names
 * are interned in pool, which must outlive the rules. On success *out is
 * ALLOCATED; free it with channels_free(). A rules file that cannot be
 * read or has a bad line or regex is CL_ERR_CONFIG, logged with file and
 * line.
 */
bool channels_load(const char *rules_file, bool defaults, StrPool *pool,
				   ChannelRules **out, ClError *err);
void channels_free(ChannelRules *rules);     /* NULL-safe */

/*
 * channels_classify: the channel of a (source, medium) pair, which must be
 * normalised (trimmed, lower-case) or NULL. The result is interned in the
 * pool given to channels_load. Results are memoised per pair of pointers,
 * so pass interned values. NULL only when out of memory (logged).
 */
const char *channels_classify(ChannelRules *rules, const char *source, const char *medium);

/* channels_classify_dataset sets the channel of every touch and spend row. */
bool channels_classify_dataset(ChannelRules *rules, Dataset *ds);

/* channels_count: rules in effect (file rules plus defaults), for logs. */
int channels_count(const ChannelRules *rules);

#endif
