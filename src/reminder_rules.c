/* reminder_rules — reminder schedule and quiet hours, pure. */
#include "dvcbot/reminder_rules.h"
#include "dvcbot/dossier.h"

#include <string.h>

#define VN_OFFSET_S (7 * 3600)
#define DAY_S (24 * 3600)

/* ===== Quiet hours ===== */

static int vn_hour(int64_t t)
{
    int64_t local = t + VN_OFFSET_S;
    int64_t in_day = ((local % DAY_S) + DAY_S) % DAY_S;
    return (int)(in_day / 3600);
}

bool reminder_quiet(const struct reminder_rules *r, int64_t t)
{
    if (r->quiet_from < 0 || r->quiet_from == r->quiet_to)
        return false;
    int h = vn_hour(t);
    if (r->quiet_from < r->quiet_to)
        return h >= r->quiet_from && h < r->quiet_to;
    return h >= r->quiet_from || h < r->quiet_to; /* over midnight: 21-7 */
}

int64_t reminder_after_quiet(const struct reminder_rules *r, int64_t t)
{
    if (!reminder_quiet(r, t))
        return t;
    int64_t local = t + VN_OFFSET_S;
    int64_t day = local - (((local % DAY_S) + DAY_S) % DAY_S);
    int64_t end = day + (int64_t)r->quiet_to * 3600;
    if (end <= local)
        end += DAY_S; /* 23:00 in 21-7 ends tomorrow morning */
    return end - VN_OFFSET_S;
}

/* ===== The plan ===== */

static enum reminder_kind status_kind(const struct reminder_state *s)
{
    if (s->status == DOSSIER_CAN_BO_SUNG)
        return REMINDER_CAN_BO_SUNG;
    if (s->status == DOSSIER_CHO_THANH_TOAN && s->fee_due)
        return REMINDER_CHO_THANH_TOAN;
    return REMINDER_NONE;
}

/* When the next status reminder is due, or 0. */
static int64_t status_slot(const struct reminder_rules *r, enum reminder_kind kind,
                           const struct reminder_plan *p)
{
    if (kind == REMINDER_NONE || p->count >= r->max)
        return 0;
    return (p->count ? p->last : p->cycle) + r->every_s;
}

/* The earlier of two moments (0 = none), not before now, out of quiet hours. */
static int64_t earliest(const struct reminder_rules *r, int64_t a, int64_t b, int64_t now)
{
    int64_t t = a && (!b || a < b) ? a : b;
    if (!t)
        return 0;
    return reminder_after_quiet(r, t > now ? t : now);
}

void reminder_plan(const struct reminder_rules *r, const struct reminder_state *s, int64_t now,
                   struct reminder_plan *p)
{
    memset(p, 0, sizeof *p);
    p->cycle = s->cycle > 0 ? s->cycle : now;
    if (s->counted == p->cycle) {
        p->count = s->count;
        p->last = s->last;
    }
    if (s->status < 0 || dossier_status_final((enum dossier_status)s->status))
        return;
    enum reminder_kind kind = status_kind(s);
    int64_t slot = status_slot(r, kind, p);
    int64_t late = s->late_at > 0 && !s->late_told ? s->late_at : 0;
    bool open = !reminder_quiet(r, now);
    if (open && late && late <= now) {
        p->send = REMINDER_LATE;
        p->late_told = true;
        late = 0;
    } else if (open && slot && slot <= now) {
        p->send = kind;
    }
    if (p->send != REMINDER_NONE && slot && slot <= now) {
        p->count++;
        p->last = now;
        slot = status_slot(r, kind, p);
    }
    p->next = earliest(r, slot, late, now);
}

const char *reminder_kind_name(enum reminder_kind k)
{
    static const char *const names[REMINDER_KIND_COUNT] = {
        [REMINDER_NONE] = "none", [REMINDER_CAN_BO_SUNG] = "can_bo_sung",
        [REMINDER_CHO_THANH_TOAN] = "cho_thanh_toan", [REMINDER_LATE] = "late",
    };
    return k < REMINDER_KIND_COUNT ? names[k] : "none";
}
