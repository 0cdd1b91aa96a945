/* profile — "give data once": the answers a user agreed to keep.
 *
 * Redis hash p:{<user key>}: consent ("yes" | "no"), consent_at (unix time
 * the user answered), and only after a "yes" the fields name, birth_date,
 * cccd, phone, commune (flowdef.h enum profile_field); a "no", also one
 * pressed on an older message after a "yes", deletes them. Consent is asked once,
 * after the first flow that collected such answers (buttons consent:yes /
 * consent:no); flows offer the saved values as a one-tap default. Volunteers
 * assisting a resident never read or write their own profile.
 *
 * profile_register adds the consent:* button handlers to the dialog; they
 * read the answers to keep from session.after.save (written by flow.c) and
 * continue with the rating question (feedback.h). While the question waits
 * (mode PROFILE_CONSENT_MODE, set by whoever asks it), a typed yes or no
 * ("có", "đồng ý" / "không", "thôi": flowdef.h words) answers it like the
 * buttons; any other line leaves the mode and is answered as usual. Loaded
 * profiles belong to the callback for its duration only. */
#ifndef DVCBOT_PROFILE_H
#define DVCBOT_PROFILE_H

#include "dvcbot/dialog.h"
#include "dvcbot/flowdef.h"
#include "dvcbot/store.h"

enum profile_consent { PROFILE_UNASKED, PROFILE_AGREED, PROFILE_REFUSED };

struct profile {
    enum profile_consent consent;
    const char *values[PROFILE_FIELD_COUNT]; /* NULL when not saved */
};

/* profile is NULL when Redis failed. */
typedef void (*profile_cb)(const struct profile *profile, void *ud);

/* Returns 0, or a negative store error (cb is then never called). */
int profile_load(struct store *s, const char *user_key, profile_cb cb, void *ud);
/* Writes the non-NULL values (after consent). Fire and forget. */
int profile_save(struct store *s, const char *user_key, const char *const values[PROFILE_FIELD_COUNT]);

#define PROFILE_CONSENT_MODE "consent"

/* words: the yes/no words (borrowed; lives longer than the dialog). */
void profile_register(struct dialog *d, const struct flow_set *words);

#endif
