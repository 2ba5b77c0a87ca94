/* The media engine's per-packet work in C: what sip_checks/toolkit/stream.py does in Python
 * for every RTP packet sent and received, operating on the same MediaSession objects.
 *
 * Why C: at 120 calls x 20 s the Python engine spent 2.3 s of user CPU (SIPp: 0.12 s) for
 * 240 000 packets sent and echoed back, about 10 us of interpreter per packet, while the
 * kernel's share was the same for both tools (2.0 s vs 1.8 s): the CPU ratio against SIPp
 * could not go under 2x in Python (bench/calls_vs_sipp.py). Here a packet costs well under
 * a microsecond outside the kernel.
 *
 * The Python methods stay the reference: MediaSession._prepare/_commit/_receive/_one_way
 * and ReceiverStats.update are what this file does, line for line, and tests compare both
 * on the same packets (tests/unit/test_rtpcore.py). The rare paths (DTMF events, a voice
 * packet that must be rebuilt, a remote that is a host name) call those Python methods.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define RTP_SEQ_MOD 65536LL
#define MAX_DROPOUT 3000LL
#define MAX_MISORDER 100LL
#define JITTER_RESTART_S 1.0
#define TX_WINDOW 4096
#define TX_SLOT (TX_WINDOW - 1)
#define SCAN_FIRST 50
#define RESCAN_EVERY 25
#define MAX_SOURCES 16
#define READ_ROUNDS 8
#define READ_EVENTS 256 /* ready sockets per epoll_wait; more are read in the next round */
#define SO_TIMESTAMPNS_ 35
#define RX_BUFSIZE 2048

static double now_clock(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- the extended sequence numbers seen in a run ---------------------------------------
 *
 * ReceiverStats keeps them in a set. Under A.1 a number is either above the highest one
 * (at most MAX_DROPOUT above) or at most MAX_MISORDER below it, so a ring of the last
 * SEEN_RING numbers answers "seen before?" exactly, in 512 bytes whatever the call's length
 * (the set grew by 16 bytes or more per packet, and a cache miss per insert). */

#define SEEN_RING 4096 /* > MAX_DROPOUT + MAX_MISORDER, a power of two */

typedef struct {
    uint64_t bits[SEEN_RING / 64];
    long long top; /* the highest number in the ring */
    long long len; /* distinct numbers added in this run */
} Seen;

static void seen_clear(Seen *s)
{
    memset(s->bits, 0, sizeof(s->bits));
    s->len = 0;
}

static void seen_bit(Seen *s, long long k, int on)
{
    uint64_t m = 1ULL << ((unsigned long long)k & 63);
    uint64_t *w = &s->bits[((unsigned long long)k / 64) % (SEEN_RING / 64)];
    *w = on ? (*w | m) : (*w & ~m);
}

static int seen_has(const Seen *s, long long k)
{
    return (s->bits[((unsigned long long)k / 64) % (SEEN_RING / 64)] >>
            ((unsigned long long)k & 63)) & 1;
}

/* 1 if k was not in the run yet (now it is), 0 if it was. */
static int seen_add(Seen *s, long long k)
{
    if (s->len == 0 || k > s->top) {
        if (s->len == 0 || k - s->top >= SEEN_RING) {
            long long len = s->len;
            seen_clear(s);
            s->len = len;
        } else {
            for (long long i = s->top + 1; i < k; i++)
                seen_bit(s, i, 0);
        }
        seen_bit(s, k, 1);
        s->top = k;
        s->len += 1;
        return 1;
    }
    if (s->top - k >= SEEN_RING - MAX_DROPOUT) /* never under A.1: counted as new */
        return (s->len += 1), 1;
    if (seen_has(s, k))
        return 0;
    seen_bit(s, k, 1);
    s->len += 1;
    return 1;
}

/* ---- Stats: ReceiverStats (rtp.py) in C ------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    long clock_rate;
    long long received;
    int has_base;
    long long base_seq;
    long long max_seq;
    long long cycles;
    long long bad_seq;
    long long bad;
    long long resyncs;
    long long duplicates_or_late;
    double jitter;
    double jitter_sum_ms;
    long long jitter_samples;
    double jitter_max_ms;
    long long jitter_restarts;
    int has_first;
    double first_arrival;
    int has_last;
    double last_arrival;
    int has_last_voice;
    double last_voice_arrival;
    long long last_ts;
    Seen seen;
    long long closed_expected;
    long long closed_unique;
} StatsObject;

static PyTypeObject StatsType;

static int Stats_init(StatsObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"clock_rate", NULL};
    long clock_rate = 8000;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|l", kwlist, &clock_rate))
        return -1;
    if (clock_rate <= 0) {
        PyErr_SetString(PyExc_ValueError, "clock_rate must be positive");
        return -1;
    }
    memset(&self->received, 0, sizeof(StatsObject) - offsetof(StatsObject, received));
    self->clock_rate = clock_rate;
    self->bad_seq = RTP_SEQ_MOD + 1;
    return 0;
}

static void Stats_dealloc(StatsObject *self)
{
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static long long run_expected(StatsObject *s)
{
    return s->has_base ? s->cycles + s->max_seq - s->base_seq + 1 : 0;
}

static int stats_resync(StatsObject *s, long long seq)
{
    s->closed_expected += run_expected(s);
    s->closed_unique += s->seen.len;
    s->resyncs += 1;
    s->bad -= 1;
    s->cycles = 0;
    s->max_seq = seq;
    s->base_seq = seq - 1;
    s->bad_seq = RTP_SEQ_MOD + 1;
    seen_clear(&s->seen);
    seen_add(&s->seen, seq - 1);
    s->received += 1;
    return 0;
}

static void stats_jitter(StatsObject *s, long long ts, double arrival)
{
    if (s->has_last_voice) {
        long long dts = ((ts - s->last_ts + 0x80000000LL) & 0xFFFFFFFFLL) - 0x80000000LL;
        double d = fabs((arrival - s->last_voice_arrival) * (double)s->clock_rate - (double)dts);
        if (d <= (double)s->clock_rate * JITTER_RESTART_S) {
            double jitter = s->jitter = s->jitter + (d - s->jitter) / 16;
            double ms = jitter * 1000 / (double)s->clock_rate;
            s->jitter_sum_ms += ms;
            s->jitter_samples += 1;
            if (ms > s->jitter_max_ms)
                s->jitter_max_ms = ms;
        } else {
            s->jitter_restarts += 1;
        }
    }
    s->has_last_voice = 1;
    s->last_voice_arrival = arrival;
    s->last_ts = ts;
}

/* ReceiverStats.update: RFC 3550 A.1 without probation, A.8 jitter. -1 on error. */
static int stats_update(StatsObject *s, long long seq, long long ts, double arrival, int voice)
{
    long long ext;
    seq &= 0xFFFF;
    if (!s->has_first) {
        s->has_first = 1;
        s->first_arrival = arrival;
    }
    s->has_last = 1;
    s->last_arrival = arrival;
    long long max_seq = s->max_seq;
    if (!s->has_base) {
        s->has_base = 1;
        s->base_seq = s->max_seq = seq;
        ext = seq;
    } else {
        long long udelta = (seq - max_seq) & 0xFFFF;
        if (udelta < MAX_DROPOUT) {
            if (seq < max_seq)
                s->cycles += RTP_SEQ_MOD;
            s->max_seq = seq;
            ext = s->cycles + seq;
        } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
            if (seq != s->bad_seq) {
                s->bad_seq = (seq + 1) & 0xFFFF;
                s->bad += 1;
                return 0;
            }
            if (stats_resync(s, seq) < 0)
                return -1;
            ext = seq;
        } else {
            ext = s->cycles + max_seq - (RTP_SEQ_MOD - udelta);
            if (ext < s->base_seq)
                s->base_seq = ext;
        }
    }
    s->received += 1;
    if (!seen_add(&s->seen, ext))
        s->duplicates_or_late += 1;
    if (voice)
        stats_jitter(s, ts, arrival);
    return 0;
}

static PyObject *Stats_update(StatsObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"seq", "ts", "arrival", "voice", NULL};
    long long seq, ts;
    double arrival;
    int voice = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "LLd|$p", kwlist, &seq, &ts, &arrival, &voice))
        return NULL;
    if (stats_update(self, seq, ts, arrival, voice) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *opt_float(int has, double v)
{
    if (!has)
        Py_RETURN_NONE;
    return PyFloat_FromDouble(v);
}

static PyObject *Stats_get_base_seq(StatsObject *s, void *c)
{
    (void)c;
    if (!s->has_base)
        Py_RETURN_NONE;
    return PyLong_FromLongLong(s->base_seq);
}
static PyObject *Stats_get_first(StatsObject *s, void *c)
{
    (void)c;
    return opt_float(s->has_first, s->first_arrival);
}
static PyObject *Stats_get_last(StatsObject *s, void *c)
{
    (void)c;
    return opt_float(s->has_last, s->last_arrival);
}
static long long stats_expected(StatsObject *s) { return s->closed_expected + run_expected(s); }
static long long stats_unique(StatsObject *s) { return s->closed_unique + s->seen.len; }
static long long stats_lost(StatsObject *s)
{
    long long lost = stats_expected(s) - stats_unique(s);
    return lost > 0 ? lost : 0;
}
static PyObject *Stats_get_expected(StatsObject *s, void *c)
{
    (void)c;
    return PyLong_FromLongLong(stats_expected(s));
}
static PyObject *Stats_get_unique(StatsObject *s, void *c)
{
    (void)c;
    return PyLong_FromLongLong(stats_unique(s));
}
static PyObject *Stats_get_lost(StatsObject *s, void *c)
{
    (void)c;
    return PyLong_FromLongLong(stats_lost(s));
}
static PyObject *Stats_get_loss_pct(StatsObject *s, void *c)
{
    (void)c;
    long long expected = stats_expected(s);
    return PyFloat_FromDouble(expected ? 100.0 * (double)stats_lost(s) / (double)expected : 0.0);
}
static PyObject *Stats_get_jitter_ms(StatsObject *s, void *c)
{
    (void)c;
    return PyFloat_FromDouble(s->jitter_samples ? s->jitter_sum_ms / (double)s->jitter_samples
                                                : 0.0);
}

static PyGetSetDef Stats_getset[] = {
    {"base_seq", (getter)Stats_get_base_seq, NULL, NULL, NULL},
    {"first_arrival", (getter)Stats_get_first, NULL, NULL, NULL},
    {"last_arrival", (getter)Stats_get_last, NULL, NULL, NULL},
    {"expected", (getter)Stats_get_expected, NULL, NULL, NULL},
    {"unique", (getter)Stats_get_unique, NULL, NULL, NULL},
    {"lost", (getter)Stats_get_lost, NULL, NULL, NULL},
    {"loss_pct", (getter)Stats_get_loss_pct, NULL, NULL, NULL},
    {"jitter_ms", (getter)Stats_get_jitter_ms, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

#define RO(name, type) {#name, type, offsetof(StatsObject, name), READONLY, NULL}
static PyMemberDef Stats_members[] = {
    {"clock_rate", T_LONG, offsetof(StatsObject, clock_rate), 0, NULL},
    RO(received, T_LONGLONG),
    RO(max_seq, T_LONGLONG),
    RO(cycles, T_LONGLONG),
    RO(bad_seq, T_LONGLONG),
    RO(bad, T_LONGLONG),
    RO(resyncs, T_LONGLONG),
    RO(duplicates_or_late, T_LONGLONG),
    RO(jitter, T_DOUBLE),
    RO(jitter_sum_ms, T_DOUBLE),
    RO(jitter_samples, T_LONGLONG),
    RO(jitter_max_ms, T_DOUBLE),
    RO(jitter_restarts, T_LONGLONG),
    {NULL, 0, 0, 0, NULL},
};

static PyMethodDef Stats_methods[] = {
    {"update", (PyCFunction)(void (*)(void))Stats_update, METH_VARARGS | METH_KEYWORDS,
     "Account one packet (ReceiverStats.update)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject StatsType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "sip_checks.toolkit._rtpcore.Stats",
    .tp_basicsize = sizeof(StatsObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "RFC 3550 receiver statistics of one SSRC: ReceiverStats in C.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Stats_init,
    .tp_dealloc = (destructor)Stats_dealloc,
    .tp_methods = Stats_methods,
    .tp_members = Stats_members,
    .tp_getset = Stats_getset,
};

/* ---- MediaSession attributes ------------------------------------------------------------ */

enum {
    A_first_rx,
    A_rx_from,
    A_rx,
    A_rx_sources,
    A_event_pt,
    A_ssrc,
    A_tx_seq,
    A_tx_time,
    A_tx_ts,
    A_tx_ts_key,
    A_echo_rtt_ms,
    A_origin,
    A_local,
    A_ptime_ms,
    A_one_way_ms,
    A_dtmf_rx,
    A_seq,
    A_ts,
    A_ready,
    A_out,
    A_out_voice,
    A_out_dequeues,
    A_dtmf_queue,
    A_voice,
    A_voice_key,
    A_pt,
    A_codec,
    A_prepare,
    A_commit,
    A_sent,
    A_send_errors,
    A_next_send,
    A_remote,
    A_sock,
    A_fileno,
    A_sendto,
    A_st,
    A_sending,
    N_ATTRS
};

static const char *attr_text[N_ATTRS] = {
    "first_rx",
    "rx_from",
    "rx",
    "rx_sources",
    "event_pt",
    "ssrc",
    "_tx_seq",
    "_tx_time",
    "_tx_ts",
    "_tx_ts_key",
    "echo_rtt_ms",
    "_origin",
    "_local",
    "ptime_ms",
    "one_way_ms",
    "_dtmf_rx",
    "seq",
    "ts",
    "_ready",
    "_out",
    "_out_voice",
    "_out_dequeues",
    "_dtmf_queue",
    "_voice",
    "_voice_key",
    "pt",
    "codec",
    "_prepare",
    "_commit",
    "sent",
    "send_errors",
    "next_send",
    "remote",
    "sock",
    "fileno",
    "sendto",
    "_st",
    "sending"
};
static PyObject *attr_name[N_ATTRS];

/* Where each attribute lives in a MediaSession: the byte offset of its slot, or -1.
 *
 * A dataclass with slots keeps each field at a fixed offset in the object, behind a member
 * descriptor; PyObject_GetAttr finds that descriptor through the type on every call, about
 * as long as everything else this file does per packet (perf, 120 calls). The offsets are
 * read once per type (again when the type is modified: its version tag changes), and a
 * field that is not a plain writable slot goes through PyObject_GetAttr as before. */
static struct {
    PyTypeObject *type;
    unsigned int version;
    Py_ssize_t offset[N_ATTRS];
} slots;

static void resolve_slots(PyTypeObject *t)
{
    for (int i = 0; i < N_ATTRS; i++) {
        PyObject *d = _PyType_Lookup(t, attr_name[i]); /* borrowed */
        slots.offset[i] = -1;
        if (d != NULL && Py_IS_TYPE(d, &PyMemberDescr_Type)) {
            PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
            if (m->type == T_OBJECT_EX && !(m->flags & READONLY))
                slots.offset[i] = m->offset;
        }
    }
    slots.type = t;
    slots.version = (t->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG) ? t->tp_version_tag : 0;
}

static Py_ssize_t slot_offset(PyObject *o, int i)
{
    PyTypeObject *t = Py_TYPE(o);
    if (t != slots.type || !(t->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG) ||
        t->tp_version_tag != slots.version)
        resolve_slots(t);
    return slots.version ? slots.offset[i] : -1;
}

/* getattr(o, name): a new reference, or NULL with AttributeError. */
static PyObject *attr(PyObject *o, int i)
{
    Py_ssize_t off = slot_offset(o, i);
    if (off >= 0) {
        PyObject *v = *(PyObject **)((char *)o + off);
        if (v != NULL) {
            Py_INCREF(v);
            return v;
        }
    }
    return PyObject_GetAttr(o, attr_name[i]);
}

/* setattr(o, name, v). */
static int set_attr(PyObject *o, int i, PyObject *v)
{
    Py_ssize_t off = slot_offset(o, i);
    if (off >= 0) {
        PyObject **p = (PyObject **)((char *)o + off);
        Py_INCREF(v);
        Py_XSETREF(*p, v);
        return 0;
    }
    return PyObject_SetAttr(o, attr_name[i], v);
}

static int intern_names(void)
{
    for (int i = 0; i < N_ATTRS; i++)
        if ((attr_name[i] = PyUnicode_InternFromString(attr_text[i])) == NULL)
            return -1;
    return 0;
}

/* An integer attribute; -1 with an exception set on error (check PyErr_Occurred). */
static long long get_ll(PyObject *o, int name)
{
    PyObject *v = attr(o, name);
    if (v == NULL)
        return -1;
    long long r = PyLong_AsLongLong(v);
    Py_DECREF(v);
    return r;
}

/* The object in a slot, borrowed, or NULL (no error set) when it is not a plain slot or
 * unset: for identity checks against what a State cached. */
static PyObject *peek(PyObject *o, int i)
{
    Py_ssize_t off = slot_offset(o, i);
    return off >= 0 ? *(PyObject **)((char *)o + off) : NULL;
}

/* ---- State: a session's counters (stream._Counters) in C -------------------------------- */

enum { W_TIME, W_SEQ, W_TS, W_TS_KEY, N_WINDOWS };

typedef struct {
    PyObject_HEAD
    long long seq;
    long long ts;
    long long sent;
    long long send_errors;
    double next_send;
    char ready;
    char out_voice;
    char out_dequeues;
    int windows; /* how many of win[] are held (all four once built) */
    Py_buffer win[N_WINDOWS]; /* the session's send-time arrays, held: they cannot resize */
    /* Caches, each valid for the objects it was computed from (held). */
    PyObject *remote; /* the remote tuple that `to` is for */
    struct sockaddr_storage to;
    socklen_t tolen;
    int numeric; /* `to` is valid; otherwise the socket module resolves the host */
    PyObject *key[4]; /* pt, codec, ptime_ms, ssrc objects the voice packet was checked for */
    PyObject *own;    /* the ssrc object whose value is own_ssrc */
    long long own_ssrc;
    PyObject *event; /* the event_pt object whose value is event_pt (-1: None) */
    long long event_pt;
} StateObject;

static PyTypeObject StateType;

static void State_clear_caches(StateObject *st)
{
    Py_CLEAR(st->remote);
    for (int i = 0; i < 4; i++)
        Py_CLEAR(st->key[i]);
    Py_CLEAR(st->own);
    Py_CLEAR(st->event);
}

static void State_release(StateObject *st)
{
    for (int i = 0; i < st->windows; i++)
        PyBuffer_Release(&st->win[i]);
    st->windows = 0;
}

static int State_init(StateObject *self, PyObject *args, PyObject *kwds)
{
    PyObject *arrays[N_WINDOWS];
    static const char formats[N_WINDOWS] = {'d', 'q', 'd', 'q'};
    if (kwds != NULL && PyDict_GET_SIZE(kwds)) {
        PyErr_SetString(PyExc_TypeError, "State() takes the four send-time arrays");
        return -1;
    }
    if (!PyArg_ParseTuple(args, "OOOO", &arrays[0], &arrays[1], &arrays[2], &arrays[3]))
        return -1;
    State_release(self);
    State_clear_caches(self);
    for (int i = 0; i < N_WINDOWS; i++) {
        Py_buffer *v = &self->win[i];
        if (PyObject_GetBuffer(arrays[i], v, PyBUF_WRITABLE | PyBUF_FORMAT) < 0)
            return -1;
        self->windows = i + 1;
        if (v->len != TX_WINDOW * 8 || v->itemsize != 8 || v->format == NULL ||
            v->format[0] != formats[i] || v->format[1] != 0) {
            PyErr_SetString(PyExc_ValueError, "State(): a send-time array is not TX_WINDOW "
                                              "8-byte items of the right type");
            return -1;
        }
    }
    self->seq = self->ts = self->sent = self->send_errors = 0;
    self->next_send = 0.0;
    self->ready = self->out_dequeues = 0;
    self->out_voice = 1;
    return 0;
}

static void State_dealloc(StateObject *self)
{
    State_release(self);
    State_clear_caches(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

#define ST(name, type) {#name, type, offsetof(StateObject, name), 0, NULL}
static PyMemberDef State_members[] = {
    ST(seq, T_LONGLONG),   ST(ts, T_LONGLONG),    ST(sent, T_LONGLONG),
    ST(send_errors, T_LONGLONG), ST(next_send, T_DOUBLE), ST(ready, T_BOOL),
    ST(out_voice, T_BOOL), ST(out_dequeues, T_BOOL), {NULL, 0, 0, 0, NULL},
};

static PyTypeObject StateType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "sip_checks.toolkit._rtpcore.State",
    .tp_basicsize = sizeof(StateObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A session's counters and send-time windows (stream._Counters) in C.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)State_init,
    .tp_dealloc = (destructor)State_dealloc,
    .tp_members = State_members,
};

#define WIN_D(st, w) ((double *)(st)->win[w].buf)
#define WIN_Q(st, w) ((int64_t *)(st)->win[w].buf)

/* The session's State, borrowed (the session holds it), or NULL with TypeError. */
static StateObject *state_of(PyObject *s)
{
    PyObject *st = peek(s, A_st);
    if (st == NULL) {
        st = attr(s, A_st);
        if (st == NULL)
            return NULL;
        Py_DECREF(st); /* still held by the session */
    }
    if (!Py_IS_TYPE(st, &StateType) || ((StateObject *)st)->windows != N_WINDOWS) {
        PyErr_SetString(PyExc_TypeError, "MediaSession._st is not a built _rtpcore.State");
        return NULL;
    }
    return (StateObject *)st;
}

/* The value of an int slot, cached in the State for the object it came from. */
static int cached_ll(PyObject *s, int name, PyObject **cache, long long *value, long long none)
{
    PyObject *v = peek(s, name);
    if (v != NULL && v == *cache)
        return 0;
    PyObject *obj = v != NULL ? (Py_INCREF(v), v) : attr(s, name);
    if (obj == NULL)
        return -1;
    long long x = none;
    if (obj != Py_None) {
        x = PyLong_AsLongLong(obj);
        if (x == -1 && PyErr_Occurred()) {
            Py_DECREF(obj);
            return -1;
        }
    }
    Py_XSETREF(*cache, obj);
    *value = x;
    return 0;
}

/* MediaSession._sent_at: 1 and *at if the voice packet with timestamp ts left among the last
 * TX_WINDOW, 0 if not, -1 on error. */
static int sent_at(PyObject *sender, long long ts, double *at)
{
    PyObject *obj = peek(sender, A_st);
    if (obj == NULL || !Py_IS_TYPE(obj, &StateType)) { /* Python counters: its own method */
        PyObject *r = PyObject_CallMethod(sender, "_sent_at", "L", ts);
        if (r == NULL)
            return -1;
        int found = r != Py_None;
        if (found)
            *at = PyFloat_AsDouble(r);
        Py_DECREF(r);
        return found && PyErr_Occurred() ? -1 : found;
    }
    StateObject *st = state_of(sender);
    if (st == NULL)
        return -1;
    long long ptime = get_ll(sender, A_ptime_ms);
    if (ptime == -1 && PyErr_Occurred())
        return -1;
    if (ptime <= 0)
        return 0;
    long long j = (ts / (8 * ptime)) & TX_SLOT;
    if (WIN_Q(st, W_TS_KEY)[j] != ts)
        return 0;
    *at = WIN_D(st, W_TS)[j];
    return 1;
}

/* Append a float to the list d[key] (created if missing). */
static int append_to(PyObject *d, PyObject *key, double value)
{
    PyObject *list = PyDict_GetItemWithError(d, key);
    if (list == NULL) {
        if (PyErr_Occurred())
            return -1;
        list = PyList_New(0);
        if (list == NULL)
            return -1;
        int r = PyDict_SetItem(d, key, list);
        Py_DECREF(list);
        if (r < 0)
            return -1;
    }
    PyObject *v = PyFloat_FromDouble(value);
    if (v == NULL)
        return -1;
    int r = PyList_Append(list, v);
    Py_DECREF(v);
    return r;
}

/* MediaSession._one_way. */
static int one_way(PyObject *self, PyObject *key, long long ssrc_ts, double arrival,
                   long long count)
{
    double at = 0;
    int found = 0;
    PyObject *origin = attr(self, A_origin);
    if (origin == NULL)
        return -1;
    PyObject *sender = PyDict_GetItemWithError(origin, key);
    if (sender == NULL && PyErr_Occurred())
        goto fail;
    if (sender != NULL) {
        Py_INCREF(sender);
        found = sent_at(sender, ssrc_ts, &at);
        Py_DECREF(sender);
        if (found < 0)
            goto fail;
    }
    if (!found) {
        if (count > SCAN_FIRST && count % RESCAN_EVERY) {
            Py_DECREF(origin);
            return 0;
        }
        PyObject *local = attr(self, A_local);
        if (local == NULL)
            goto fail;
        if (!PyList_Check(local)) {
            Py_DECREF(local);
            PyErr_SetString(PyExc_TypeError, "MediaSession._local is not a list");
            goto fail;
        }
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(local); i++) {
            PyObject *other = PyList_GET_ITEM(local, i);
            if (other == self)
                continue;
            Py_INCREF(other);
            found = sent_at(other, ssrc_ts, &at);
            if (found > 0 && PyDict_SetItem(origin, key, other) < 0)
                found = -1;
            Py_DECREF(other);
            if (found)
                break;
        }
        Py_DECREF(local);
        if (found < 0)
            goto fail;
        if (!found) {
            Py_DECREF(origin);
            return 0;
        }
    }
    Py_DECREF(origin);
    PyObject *per_ssrc = attr(self, A_one_way_ms);
    if (per_ssrc == NULL)
        return -1;
    int r = append_to(per_ssrc, key, (arrival - at) * 1000);
    Py_DECREF(per_ssrc);
    return r;
fail:
    Py_DECREF(origin);
    return -1;
}

/* rx_from[src] += 1, or = 1 while fewer than MAX_SOURCES sources are counted. */
static int count_source(PyObject *self, PyObject *src)
{
    PyObject *d = attr(self, A_rx_from);
    if (d == NULL)
        return -1;
    int r = 0;
    PyObject *count = PyDict_GetItemWithError(d, src);
    PyObject *next = NULL;
    if (count != NULL) {
        long long c = PyLong_AsLongLong(count);
        if (c == -1 && PyErr_Occurred())
            r = -1;
        else if ((next = PyLong_FromLongLong(c + 1)) == NULL)
            r = -1;
    } else if (PyErr_Occurred()) {
        r = -1;
    } else if (PyDict_GET_SIZE(d) < MAX_SOURCES && (next = PyLong_FromLong(1)) == NULL) {
        r = -1;
    }
    if (r == 0 && next != NULL)
        r = PyDict_SetItem(d, src, next);
    Py_XDECREF(next);
    Py_DECREF(d);
    return r;
}

/* MediaSession._receive: data[0:len] arrived from src at arrival (wall clock). */
static int receive(PyObject *self, const unsigned char *data, Py_ssize_t len, PyObject *src,
                   double arrival, PyObject *stats_type)
{
    if (len < 12 || data[0] >> 6 != 2)
        return 0;
    unsigned b0 = data[0], b1 = data[1];
    unsigned pt = b1 & 0x7F;
    if (pt >= 64 && pt <= 95)
        return 0;
    long long seq = ((long long)data[2] << 8) | data[3];
    long long ts = ((long long)data[4] << 24) | ((long long)data[5] << 16) |
                   ((long long)data[6] << 8) | data[7];
    unsigned long ssrc = ((unsigned long)data[8] << 24) | ((unsigned long)data[9] << 16) |
                         ((unsigned long)data[10] << 8) | data[11];
    Py_ssize_t offset = 12 + 4 * (b0 & 0x0F), end = len;
    if (b0 & 0x10) {
        if (len < offset + 4)
            return 0;
        offset += 4 + 4 * (((Py_ssize_t)data[offset + 2] << 8) | data[offset + 3]);
    }
    if (b0 & 0x20)
        end -= data[len - 1];
    if (offset > end)
        return 0;

    StateObject *st = state_of(self);
    if (st == NULL)
        return -1;
    Py_INCREF(st);
    int rc = -1;
    PyObject *rx = NULL, *key = NULL, *stats = NULL;
    if ((key = PyLong_FromUnsignedLong(ssrc)) == NULL)
        goto done;
    if ((rx = attr(self, A_rx)) == NULL)
        goto done;
    stats = PyDict_GetItemWithError(rx, key);
    if (stats == NULL && PyErr_Occurred())
        goto done;
    Py_XINCREF(stats);
    if (stats != NULL && !Py_IS_TYPE(stats, &StatsType)) {
        /* A Python ReceiverStats put there by someone else: the reference does it all. */
        PyObject *bytes = PyBytes_FromStringAndSize((const char *)data, len);
        PyObject *r = bytes ? PyObject_CallMethod(self, "_receive", "OOd", bytes, src, arrival)
                            : NULL;
        Py_XDECREF(bytes);
        if (r != NULL) {
            Py_DECREF(r);
            rc = 0;
        }
        goto done;
    }

    if (peek(self, A_first_rx) == Py_None) {
        PyObject *v = PyFloat_FromDouble(arrival);
        if (v == NULL)
            goto done;
        int r = set_attr(self, A_first_rx, v);
        Py_DECREF(v);
        if (r < 0)
            goto done;
    } else if (peek(self, A_first_rx) == NULL) { /* not a plain slot: the slow way */
        PyObject *first = attr(self, A_first_rx);
        if (first == NULL)
            goto done;
        int unset = first == Py_None;
        Py_DECREF(first);
        PyObject *v = unset ? PyFloat_FromDouble(arrival) : NULL;
        if (unset && (v == NULL || set_attr(self, A_first_rx, v) < 0)) {
            Py_XDECREF(v);
            goto done;
        }
        Py_XDECREF(v);
    }
    if (count_source(self, src) < 0)
        goto done;
    if (cached_ll(self, A_event_pt, &st->event, &st->event_pt, -1) < 0)
        goto done;
    int event = (long long)pt == st->event_pt;

    if (stats == NULL) {
        if ((stats = PyObject_CallNoArgs(stats_type)) == NULL)
            goto done;
        if (!Py_IS_TYPE(stats, &StatsType)) {
            PyErr_SetString(PyExc_TypeError, "read(): stats_type must be _rtpcore.Stats");
            goto done;
        }
        if (PyDict_SetItem(rx, key, stats) < 0)
            goto done;
        PyObject *sources = attr(self, A_rx_sources);
        if (sources == NULL)
            goto done;
        int r = PyDict_SetItem(sources, key, src);
        Py_DECREF(sources);
        if (r < 0)
            goto done;
    }
    stats_update((StatsObject *)stats, seq, ts, arrival, !event);
    long long received = ((StatsObject *)stats)->received;

    if (cached_ll(self, A_ssrc, &st->own, &st->own_ssrc, -1) < 0)
        goto done;
    if ((long long)ssrc == st->own_ssrc) { /* our own packet echoed back by the far end */
        long long i = seq & TX_SLOT;
        if (WIN_Q(st, W_SEQ)[i] == seq) {
            PyObject *list = attr(self, A_echo_rtt_ms);
            if (list == NULL)
                goto done;
            PyObject *v = PyFloat_FromDouble((arrival - WIN_D(st, W_TIME)[i]) * 1000);
            int r = v == NULL ? -1 : PyList_Append(list, v);
            Py_XDECREF(v);
            Py_DECREF(list);
            if (r < 0)
                goto done;
        }
    } else if (!event) {
        if (one_way(self, key, ts, arrival, received) < 0)
            goto done;
    }
    if (event) {
        PyObject *payload = PyBytes_FromStringAndSize((const char *)data + offset, end - offset);
        if (payload == NULL)
            goto done;
        PyObject *r = PyObject_CallMethod(self, "_dtmf_rx", "OkLd", payload, ssrc, ts, arrival);
        Py_DECREF(payload);
        if (r == NULL)
            goto done;
        Py_DECREF(r);
    }
    rc = 0;
done:
    Py_XDECREF(stats);
    Py_XDECREF(rx);
    Py_XDECREF(key);
    Py_DECREF(st);
    return rc;
}

/* receive(session, data, src, arrival, stats_type): one datagram through receive(), for the
 * tests that compare it with MediaSession._receive on the same packets and arrival times. */
static PyObject *core_receive(PyObject *mod, PyObject *args)
{
    (void)mod;
    PyObject *session, *src, *stats_type;
    Py_buffer data;
    double arrival;
    if (!PyArg_ParseTuple(args, "Oy*OdO", &session, &data, &src, &arrival, &stats_type))
        return NULL;
    int r = receive(session, data.buf, data.len, src, arrival, stats_type);
    PyBuffer_Release(&data);
    if (r < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* The last IPv4 source addresses seen, as tuples: a call's packets come from one or two
 * addresses, and a new tuple per packet (a str, an int and the tuple) was an allocation that
 * the cyclic garbage collector counts, so it ran every 700 packets. */
#define ADDR_CACHE 64
static struct {
    uint32_t addr;
    uint16_t port;
    PyObject *tuple;
} addr_cache[ADDR_CACHE];

/* The source address as the socket module gives it: (host, port) or IPv6's 4-tuple. */
static PyObject *make_addr(const struct sockaddr_storage *sa)
{
    char host[INET6_ADDRSTRLEN];
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        uint32_t ip = a->sin_addr.s_addr;
        uint16_t port = a->sin_port;
        unsigned h = ((ip * 2654435761u) ^ (port * 40503u)) % ADDR_CACHE;
        if (addr_cache[h].tuple != NULL && addr_cache[h].addr == ip &&
            addr_cache[h].port == port) {
            Py_INCREF(addr_cache[h].tuple);
            return addr_cache[h].tuple;
        }
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        PyObject *tuple = Py_BuildValue("(si)", host, ntohs(port));
        if (tuple == NULL)
            return NULL;
        Py_INCREF(tuple);
        Py_XSETREF(addr_cache[h].tuple, tuple);
        addr_cache[h].addr = ip;
        addr_cache[h].port = port;
        return tuple;
    }
    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        return Py_BuildValue("(siII)", host, ntohs(a->sin6_port), ntohl(a->sin6_flowinfo),
                             a->sin6_scope_id);
    }
    Py_RETURN_NONE;
}

/* read(epoll_fd, by_fd, until, stats_type) -> bool: RtpEngine._read in C.
 *
 * One datagram per ready socket and round, and a few rounds: a socket that holds more is read
 * again at once, any backlog beyond that at the next tick. Stops at until (monotonic), then
 * returns False. The ready sockets come from the engine's epoll set (level-triggered). */
static PyObject *core_read(PyObject *mod, PyObject *args)
{
    (void)mod;
    int epfd;
    PyObject *by_fd, *stats_type;
    double until;
    if (!PyArg_ParseTuple(args, "iO!dO", &epfd, &PyDict_Type, &by_fd, &until, &stats_type))
        return NULL;
    unsigned char buf[RX_BUFSIZE];
    char control[CMSG_SPACE(sizeof(struct timespec))];
    struct epoll_event events[READ_EVENTS];
    for (int round = 0; round < READ_ROUNDS; round++) {
        if (now_clock(CLOCK_MONOTONIC) >= until)
            Py_RETURN_FALSE;
        int ready = epoll_wait(epfd, events, READ_EVENTS, 0);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            return PyErr_SetFromErrno(PyExc_OSError);
        }
        if (ready == 0)
            Py_RETURN_TRUE;
        for (int i = 0; i < ready; i++) {
            if (now_clock(CLOCK_MONOTONIC) >= until)
                Py_RETURN_FALSE;
            int fd = events[i].data.fd;
            PyObject *key = PyLong_FromLong(fd);
            if (key == NULL)
                return NULL;
            PyObject *session = PyDict_GetItemWithError(by_fd, key);
            Py_DECREF(key);
            if (session == NULL) { /* removed since */
                if (PyErr_Occurred())
                    return NULL;
                continue;
            }
            Py_INCREF(session);
            struct sockaddr_storage from;
            struct iovec iov = {buf, sizeof(buf)};
            struct msghdr msg;
            memset(&msg, 0, sizeof(msg));
            msg.msg_name = &from;
            msg.msg_namelen = sizeof(from);
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control;
            msg.msg_controllen = sizeof(control);
            ssize_t got = recvmsg(fd, &msg, MSG_DONTWAIT);
            if (got < 0) { /* an ICMP error on the path (EPOLLERR), or nothing after all */
                Py_DECREF(session);
                continue;
            }
            double arrival = 0.0;
            for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS_ &&
                    c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
                    struct timespec t;
                    memcpy(&t, CMSG_DATA(c), sizeof(t));
                    arrival = (double)((long long)t.tv_sec + (double)t.tv_nsec / 1e9);
                    break;
                }
            }
            if (arrival == 0.0)
                arrival = now_clock(CLOCK_REALTIME);
            PyObject *src = make_addr(&from);
            if (src == NULL) {
                Py_DECREF(session);
                return NULL;
            }
            Py_ssize_t len = got < (ssize_t)sizeof(buf) ? (Py_ssize_t)got : (Py_ssize_t)sizeof(buf);
            int r = receive(session, buf, len, src, arrival, stats_type);
            Py_DECREF(src);
            Py_DECREF(session);
            if (r < 0)
                return NULL;
        }
    }
    Py_RETURN_TRUE;
}

/* prepare(batch): MediaSession._prepare for every session not ready; voice packets here, the
 * rest (a DTMF queue, a voice packet to rebuild) by the Python method. */
static int voice_valid(PyObject *s, StateObject *st)
{
    PyObject *cur[4] = {peek(s, A_pt), peek(s, A_codec), peek(s, A_ptime_ms), peek(s, A_ssrc)};
    int same = 1;
    for (int i = 0; i < 4; i++)
        same = same && cur[i] != NULL && cur[i] == st->key[i];
    if (same)
        return 1;
    /* Changed (or first time): compare with the key the Python method built it for. */
    PyObject *key = attr(s, A_voice_key);
    if (key == NULL)
        return -1;
    int valid = PyTuple_Check(key) && PyTuple_GET_SIZE(key) == 4;
    PyObject *want[4] = {attr(s, A_pt), attr(s, A_codec), NULL, attr(s, A_ssrc)};
    long long ptime = get_ll(s, A_ptime_ms);
    if (!(ptime == -1 && PyErr_Occurred()))
        want[2] = PyLong_FromLongLong(8 * ptime);
    for (int i = 0; i < 4 && valid > 0; i++)
        valid = want[i] == NULL ? -1
                                : PyObject_RichCompareBool(PyTuple_GET_ITEM(key, i), want[i],
                                                           Py_EQ);
    for (int i = 0; i < 4; i++)
        if (want[i] == NULL)
            valid = -1;
    Py_DECREF(key);
    if (valid > 0) { /* remember the objects it is valid for */
        PyObject *objs[4] = {want[0], want[1], attr(s, A_ptime_ms), want[3]};
        for (int i = 0; i < 4; i++) {
            Py_XINCREF(objs[i]);
            Py_XSETREF(st->key[i], objs[i]);
        }
        Py_XDECREF(objs[2]);
    }
    for (int i = 0; i < 4; i++)
        Py_XDECREF(want[i]);
    return valid;
}

static int prepare_one(PyObject *s)
{
    StateObject *st = state_of(s);
    if (st == NULL)
        return -1;
    if (st->ready)
        return 0;
    PyObject *queue = peek(s, A_dtmf_queue);
    Py_ssize_t queued = queue != NULL && PyList_Check(queue) ? PyList_GET_SIZE(queue) : -1;
    if (queued < 0) {
        if ((queue = attr(s, A_dtmf_queue)) == NULL)
            return -1;
        queued = PyObject_Length(queue);
        Py_DECREF(queue);
        if (queued < 0)
            return -1;
    }
    int fast = queued == 0 ? voice_valid(s, st) : 0;
    if (fast < 0)
        return -1;
    if (!fast) {
        PyObject *r = PyObject_CallMethodNoArgs(s, attr_name[A_prepare]);
        Py_XDECREF(r);
        return r == NULL ? -1 : 0;
    }
    PyObject *voice = attr(s, A_voice);
    if (voice == NULL)
        return -1;
    if (!PyByteArray_Check(voice) || PyByteArray_GET_SIZE(voice) < 12) {
        Py_DECREF(voice);
        PyErr_SetString(PyExc_TypeError, "MediaSession._voice is not an RTP packet buffer");
        return -1;
    }
    unsigned char *p = (unsigned char *)PyByteArray_AS_STRING(voice);
    long long seq = st->seq, ts = st->ts;
    p[2] = (unsigned char)(seq >> 8);
    p[3] = (unsigned char)seq;
    p[4] = (unsigned char)(ts >> 24);
    p[5] = (unsigned char)(ts >> 16);
    p[6] = (unsigned char)(ts >> 8);
    p[7] = (unsigned char)ts;
    int r = peek(s, A_out) == voice ? 0 : set_attr(s, A_out, voice);
    Py_DECREF(voice);
    if (r < 0)
        return -1;
    st->out_voice = st->ready = 1;
    st->out_dequeues = 0;
    return 0;
}

static PyObject *core_prepare(PyObject *mod, PyObject *batch)
{
    (void)mod;
    if (!PyList_Check(batch)) {
        PyErr_SetString(PyExc_TypeError, "prepare() takes a list of sessions");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(batch); i++) {
        PyObject *s = PyList_GET_ITEM(batch, i);
        Py_INCREF(s);
        int r = prepare_one(s);
        Py_DECREF(s);
        if (r < 0)
            return NULL;
    }
    Py_RETURN_NONE;
}

/* Whether the session is sending (its `sending` field); -1 on error. */
static int is_sending(PyObject *s)
{
    PyObject *v = peek(s, A_sending);
    if (v == Py_True)
        return 1;
    if (v == Py_False)
        return 0;
    if ((v = attr(s, A_sending)) == NULL)
        return -1;
    int r = PyObject_IsTrue(v);
    Py_DECREF(v);
    return r;
}

/* plan(sessions) -> float | None: the sending sessions' next packets prepared (as prepare),
 * and the earliest of their send times; None when none is sending. */
static PyObject *core_plan(PyObject *mod, PyObject *sessions)
{
    (void)mod;
    if (!PyList_Check(sessions)) {
        PyErr_SetString(PyExc_TypeError, "plan() takes a list of sessions");
        return NULL;
    }
    double due = 0.0;
    int any = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(sessions); i++) {
        PyObject *s = PyList_GET_ITEM(sessions, i);
        Py_INCREF(s);
        int sending = is_sending(s);
        int r = sending > 0 ? prepare_one(s) : sending;
        StateObject *st = r == 0 && sending > 0 ? state_of(s) : NULL;
        Py_DECREF(s);
        if (r < 0 || (sending > 0 && st == NULL))
            return NULL;
        if (st != NULL && (!any || st->next_send < due)) {
            due = st->next_send;
            any = 1;
        }
    }
    if (!any)
        Py_RETURN_NONE;
    return PyFloat_FromDouble(due);
}

/* batch(sessions, due) -> list: the sending sessions whose packet is due; within a
 * microsecond is the same tick (see RtpEngine._tick). */
static PyObject *core_batch(PyObject *mod, PyObject *args)
{
    (void)mod;
    PyObject *sessions;
    double due;
    if (!PyArg_ParseTuple(args, "O!d", &PyList_Type, &sessions, &due))
        return NULL;
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(sessions); i++) {
        PyObject *s = PyList_GET_ITEM(sessions, i);
        int sending = is_sending(s);
        StateObject *st = sending > 0 ? state_of(s) : NULL;
        if (sending < 0 || (sending > 0 && st == NULL)) {
            Py_DECREF(out);
            return NULL;
        }
        if (st != NULL && st->next_send <= due + 1e-6 && PyList_Append(out, s) < 0) {
            Py_DECREF(out);
            return NULL;
        }
    }
    return out;
}

/* One session's packet of the tick. */
typedef struct {
    StateObject *st; /* held */
    int fd;          /* -1: no socket */
    int has_remote;
    int by_python; /* a remote the socket module must resolve (a host name) */
    Py_buffer packet;
    int has_packet;
    int failed;
    double at;
} Send;

/* The remote (host, port[, flow, scope]) as a numeric sockaddr; 0 if the host is not numeric. */
static int parse_remote(PyObject *remote, struct sockaddr_storage *to, socklen_t *len)
{
    if (!PyTuple_Check(remote) || PyTuple_GET_SIZE(remote) < 2)
        return 0;
    const char *host = PyUnicode_Check(PyTuple_GET_ITEM(remote, 0))
                           ? PyUnicode_AsUTF8(PyTuple_GET_ITEM(remote, 0))
                           : NULL;
    if (host == NULL) {
        PyErr_Clear();
        return 0;
    }
    long port = PyLong_AsLong(PyTuple_GET_ITEM(remote, 1));
    if (port < 0 || port > 65535) {
        PyErr_Clear();
        return 0;
    }
    memset(to, 0, sizeof(*to));
    struct sockaddr_in *a4 = (struct sockaddr_in *)to;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *len = sizeof(*a4);
        return 1;
    }
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)to;
    if (strchr(host, '%') == NULL && inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*a6);
        return 1;
    }
    return 0;
}

/* MediaSession._commit for a voice packet that dequeues nothing. */
static int commit_voice(PyObject *s, StateObject *st, double at, int failed, int has_remote)
{
    long long ptime = get_ll(s, A_ptime_ms);
    if (ptime == -1 && PyErr_Occurred())
        return -1;
    long long step = 8 * ptime;
    if (step <= 0) {
        PyErr_SetString(PyExc_ValueError, "ptime_ms must be positive");
        return -1;
    }
    long long seq = st->seq, ts = st->ts;
    st->ready = 0;
    long long i = seq & TX_SLOT, j = (ts / step) & TX_SLOT;
    if (failed) {
        st->send_errors += 1;
        WIN_Q(st, W_SEQ)[i] = WIN_Q(st, W_TS_KEY)[j] = -1;
    } else if (has_remote) {
        WIN_D(st, W_TIME)[i] = at;
        WIN_Q(st, W_SEQ)[i] = seq;
        WIN_D(st, W_TS)[j] = at;
        WIN_Q(st, W_TS_KEY)[j] = ts;
        st->sent += 1;
    } else {
        WIN_Q(st, W_SEQ)[i] = WIN_Q(st, W_TS_KEY)[j] = -1;
    }
    st->seq = (seq + 1) & 0xFFFF;
    st->ts = (ts + step) & 0xFFFFFFFFLL;
    return 0;
}

/* send(batch, due) -> ([sessions that fell behind], span): the sends back to back at due
 * (monotonic), then each session's commit and next send time, as RtpEngine._tick; span is
 * how long the sends took (seconds). */
static PyObject *core_send(PyObject *mod, PyObject *args)
{
    (void)mod;
    PyObject *batch;
    double due;
    if (!PyArg_ParseTuple(args, "O!d", &PyList_Type, &batch, &due))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(batch);
    Send *sends = PyMem_Calloc((size_t)(n ? n : 1), sizeof(Send));
    if (sends == NULL)
        return PyErr_NoMemory();
    PyObject *items = PyList_GetSlice(batch, 0, n); /* our own references, whatever happens */
    PyObject *behind = NULL;
    double first = 0.0, span = 0.0;
    if (items == NULL)
        goto cleanup;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *s = PyList_GET_ITEM(items, i);
        Send *x = &sends[i];
        x->fd = -1;
        StateObject *st = state_of(s);
        if (st == NULL)
            goto cleanup;
        Py_INCREF(st);
        x->st = st;
        PyObject *remote = peek(s, A_remote);
        if (remote == NULL) {
            if ((remote = attr(s, A_remote)) == NULL)
                goto cleanup;
            Py_DECREF(remote); /* still held by the session */
        }
        x->has_remote = remote != Py_None;
        if (x->has_remote && remote != st->remote) {
            st->numeric = parse_remote(remote, &st->to, &st->tolen);
            if (PyErr_Occurred())
                goto cleanup;
            Py_INCREF(remote);
            Py_XSETREF(st->remote, remote);
        }
        x->by_python = x->has_remote && !st->numeric;
        PyObject *sock = attr(s, A_sock);
        if (sock == NULL)
            goto cleanup;
        PyObject *fd = PyObject_CallMethodNoArgs(sock, attr_name[A_fileno]);
        Py_DECREF(sock);
        if (fd == NULL)
            goto cleanup;
        x->fd = (int)PyLong_AsLong(fd);
        Py_DECREF(fd);
        if (x->fd == -1 && PyErr_Occurred())
            goto cleanup;
        PyObject *out = attr(s, A_out);
        if (out == NULL)
            goto cleanup;
        int r = PyObject_GetBuffer(out, &x->packet, PyBUF_SIMPLE);
        Py_DECREF(out);
        if (r < 0)
            goto cleanup;
        x->has_packet = 1;
    }
    while (now_clock(CLOCK_MONOTONIC) < due)
        ;
    first = now_clock(CLOCK_MONOTONIC);
    for (Py_ssize_t i = 0; i < n; i++) {
        Send *x = &sends[i];
        if (!x->has_remote)
            continue;
        x->at = now_clock(CLOCK_REALTIME); /* before: on loopback it arrives within the call */
        if (x->by_python) {
            PyObject *sock = attr(PyList_GET_ITEM(items, i), A_sock);
            PyObject *remote = attr(PyList_GET_ITEM(items, i), A_remote);
            PyObject *data = PyBytes_FromStringAndSize(x->packet.buf, x->packet.len);
            PyObject *r = sock && remote && data
                              ? PyObject_CallMethodObjArgs(sock, attr_name[A_sendto], data,
                                                           remote, NULL)
                              : NULL;
            Py_XDECREF(sock);
            Py_XDECREF(remote);
            Py_XDECREF(data);
            if (r == NULL) {
                if (!PyErr_ExceptionMatches(PyExc_OSError))
                    goto cleanup;
                PyErr_Clear();
                x->failed = 1;
            }
            Py_XDECREF(r);
        } else if (x->fd < 0 ||
                   sendto(x->fd, x->packet.buf, (size_t)x->packet.len, MSG_DONTWAIT,
                          (struct sockaddr *)&x->st->to, x->st->tolen) < 0) {
            x->failed = 1;
        }
    }
    double now = now_clock(CLOCK_MONOTONIC);
    span = now - first;
    if ((behind = PyList_New(0)) == NULL)
        goto cleanup;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *s = PyList_GET_ITEM(items, i);
        Send *x = &sends[i];
        StateObject *st = x->st;
        if (st->out_voice && !st->out_dequeues) {
            if (commit_voice(s, st, x->at, x->failed, x->has_remote) < 0)
                goto fail;
        } else {
            PyObject *at = x->failed ? (Py_INCREF(Py_None), Py_None)
                                     : PyFloat_FromDouble(x->has_remote ? x->at : NAN);
            if (at == NULL)
                goto fail;
            PyObject *r = PyObject_CallMethodOneArg(s, attr_name[A_commit], at);
            Py_DECREF(at);
            if (r == NULL)
                goto fail;
            Py_DECREF(r);
        }
        long long ptime = get_ll(s, A_ptime_ms);
        if (ptime == -1 && PyErr_Occurred())
            goto fail;
        st->next_send += (double)ptime / 1000;
        if (now - st->next_send > 0.2 && PyList_Append(behind, s) < 0) /* fell far behind */
            goto fail;
    }
    goto cleanup;
fail:
    Py_CLEAR(behind);
cleanup:
    for (Py_ssize_t i = 0; i < n; i++) {
        if (sends[i].has_packet)
            PyBuffer_Release(&sends[i].packet);
        Py_XDECREF(sends[i].st);
    }
    PyMem_Free(sends);
    Py_XDECREF(items);
    if (behind == NULL)
        return NULL;
    return Py_BuildValue("(Nd)", behind, span);
}

static PyMethodDef core_methods[] = {
    {"read", core_read, METH_VARARGS,
     "read(epoll_fd, by_fd, until, stats_type) -> bool: RtpEngine._read in C."},
    {"receive", core_receive, METH_VARARGS,
     "receive(session, data, src, arrival, stats_type): MediaSession._receive in C."},
    {"plan", core_plan, METH_O,
     "plan(sessions) -> float | None: prepare the sending ones; their earliest send time."},
    {"batch", core_batch, METH_VARARGS,
     "batch(sessions, due) -> list: the sending sessions whose packet is due."},
    {"prepare", core_prepare, METH_O, "prepare(batch): MediaSession._prepare for each."},
    {"send", core_send, METH_VARARGS,
     "send(batch, due) -> (list, float): the sends at due, then the commits; the sessions "
     "that fell behind, and how long the sends took."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT, "_rtpcore",
    "The media engine's per-packet work in C (see sip_checks/toolkit/stream.py).", -1,
    core_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__rtpcore(void)
{
    if (intern_names() < 0 || PyType_Ready(&StatsType) < 0 || PyType_Ready(&StateType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&core_module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&StatsType);
    if (PyModule_AddObject(m, "Stats", (PyObject *)&StatsType) < 0) {
        Py_DECREF(&StatsType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&StateType);
    if (PyModule_AddObject(m, "State", (PyObject *)&StateType) < 0) {
        Py_DECREF(&StateType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
