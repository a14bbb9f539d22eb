package server

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rdsca/rdsca/awsquery"
	"github.com/rdsca/rdsca/rds"
)

// MetricsPath serves the metrics in the Prometheus text format.
const MetricsPath = "/metrics"

// Metric label values.
const (
	// CodeOK is the code label of requests that succeeded.
	CodeOK = "OK"
	// ActionUnknown is the action label of requests without a registered
	// Action: missing, unknown, or refused before the body was read.
	ActionUnknown = "unknown"
)

// latencyBuckets span rdsca's answers: tens of microseconds for reads from
// memory to seconds for a region's first RSA 4096 keys.
var latencyBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// metrics are one Server's collectors, in a registry of their own so that
// many servers can live in one process.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	store    *prometheus.HistogramVec
	// byOp holds the per-action series, resolved once; the key "" is
	// ActionUnknown. Read-only once the server is built.
	byOp map[string]*opMetrics
}

// opMetrics are one action's series.
type opMetrics struct {
	ok       prometheus.Counter
	byCode   *prometheus.CounterVec // curried with the action
	duration prometheus.Observer
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rdsca_requests_total",
			Help: "API requests answered, by action and error code (OK for success).",
		}, []string{"action", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rdsca_request_duration_seconds",
			Help:    "Time to answer an API request, from routing to the response written.",
			Buckets: latencyBuckets,
		}, []string{"action"}),
		store: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rdsca_store_operation_duration_seconds",
			Help:    "Time of each call into the store, by store method.",
			Buckets: latencyBuckets,
		}, []string{"op"}),
		byOp: map[string]*opMetrics{},
	}
	m.reg.MustRegister(m.requests, m.duration, m.store,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.addAction("")
	return m
}

// addAction resolves an action's series, so serving it looks nothing up
// by label.
func (m *metrics) addAction(action string) {
	label := action
	if label == "" {
		label = ActionUnknown
	}
	byCode := m.requests.MustCurryWith(prometheus.Labels{"action": label})
	m.byOp[action] = &opMetrics{
		ok:       byCode.WithLabelValues(CodeOK),
		byCode:   byCode,
		duration: m.duration.WithLabelValues(label),
	}
}

// addInFlight exports the API requests holding a concurrency slot.
func (m *metrics) addInFlight(api *awsquery.Server) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "rdsca_requests_in_flight",
			Help: "API requests being served (holding a concurrency slot).",
		}, func() float64 { return float64(api.InFlight()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "rdsca_requests_max_concurrent",
			Help: "The bound on API requests served at once (--max-concurrent); 0 for none.",
		}, func() float64 { return float64(api.MaxConcurrent()) }),
	)
}

// observe counts one API request.
func (m *metrics) observe(info awsquery.RequestInfo) {
	om := m.byOp[info.Operation]
	if om == nil {
		om = m.byOp[""]
	}
	om.duration.Observe(info.Duration.Seconds())
	if info.Code == "" {
		om.ok.Inc()
		return
	}
	om.byCode.WithLabelValues(info.Code).Inc()
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Registry returns the server's Prometheus registry, served at MetricsPath;
// an embedding program may register its own collectors in it.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.reg }

// timedStore is an rds.Store that times every call into the store it wraps.
// It is a Resetter and a Pinger whatever the store; Reset answers
// rds.ErrResetUnsupported and Ping nil when the store is not one.
type timedStore struct {
	inner rds.Store

	override, setOverride, removeOverride, cas, addCAs      prometheus.Observer
	createInstance, instance, listInstances, updateInstance prometheus.Observer
	deleteInstance, reset                                   prometheus.Observer
}

var (
	_ rds.Store    = (*timedStore)(nil)
	_ rds.Resetter = (*timedStore)(nil)
	_ Pinger       = (*timedStore)(nil)
)

func newTimedStore(inner rds.Store, h *prometheus.HistogramVec) *timedStore {
	o := func(op string) prometheus.Observer { return h.WithLabelValues(op) }
	return &timedStore{inner: inner,
		override: o("Override"), setOverride: o("SetOverride"), removeOverride: o("RemoveOverride"),
		cas: o("CAs"), addCAs: o("AddCAs"),
		createInstance: o("CreateInstance"), instance: o("Instance"), listInstances: o("ListInstances"),
		updateInstance: o("UpdateInstance"), deleteInstance: o("DeleteInstance"), reset: o("Reset"),
	}
}

// since records the time from start; deferred with start evaluated at once.
func since(o prometheus.Observer, start time.Time) { o.Observe(time.Since(start).Seconds()) }

func (s *timedStore) Override(ctx context.Context, sc rds.Scope) (string, error) {
	defer since(s.override, time.Now())
	return s.inner.Override(ctx, sc)
}

func (s *timedStore) SetOverride(ctx context.Context, sc rds.Scope, id string) error {
	defer since(s.setOverride, time.Now())
	return s.inner.SetOverride(ctx, sc, id)
}

func (s *timedStore) RemoveOverride(ctx context.Context, sc rds.Scope) error {
	defer since(s.removeOverride, time.Now())
	return s.inner.RemoveOverride(ctx, sc)
}

func (s *timedStore) CAs(ctx context.Context, region string) ([]rds.CA, error) {
	defer since(s.cas, time.Now())
	return s.inner.CAs(ctx, region)
}

func (s *timedStore) AddCAs(ctx context.Context, region string, cas []rds.CA) error {
	defer since(s.addCAs, time.Now())
	return s.inner.AddCAs(ctx, region, cas)
}

func (s *timedStore) CreateInstance(ctx context.Context, sc rds.Scope, in rds.Instance) error {
	defer since(s.createInstance, time.Now())
	return s.inner.CreateInstance(ctx, sc, in)
}

func (s *timedStore) Instance(ctx context.Context, sc rds.Scope, id string) (rds.Instance, error) {
	defer since(s.instance, time.Now())
	return s.inner.Instance(ctx, sc, id)
}

func (s *timedStore) ListInstances(ctx context.Context, sc rds.Scope, f rds.InstanceFilter, after string, limit int) ([]rds.Instance, error) {
	defer since(s.listInstances, time.Now())
	return s.inner.ListInstances(ctx, sc, f, after, limit)
}

func (s *timedStore) UpdateInstance(ctx context.Context, sc rds.Scope, in rds.Instance) error {
	defer since(s.updateInstance, time.Now())
	return s.inner.UpdateInstance(ctx, sc, in)
}

func (s *timedStore) DeleteInstance(ctx context.Context, sc rds.Scope, id string, version int64) error {
	defer since(s.deleteInstance, time.Now())
	return s.inner.DeleteInstance(ctx, sc, id, version)
}

// Reset forwards to the wrapped store if it is an rds.Resetter.
func (s *timedStore) Reset(ctx context.Context) error {
	r, ok := s.inner.(rds.Resetter)
	if !ok {
		return rds.ErrResetUnsupported
	}
	defer since(s.reset, time.Now())
	return r.Reset(ctx)
}

// Ping forwards to the wrapped store if it is a Pinger; it is not timed.
func (s *timedStore) Ping(ctx context.Context) error {
	if p, ok := s.inner.(Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// Close closes the wrapped store.
func (s *timedStore) Close() error { return s.inner.Close() }
