// SPDX-License-Identifier: MIT
// Node glue for the kernel lane: the probe, the stand-in table, one-shot
// NOPs for tests, and the timed run on a worker thread with progress.
// The C designs' glue is in addon_designs.cc.
#include "addon.h"

#include <fcntl.h>
#include <unistd.h>

extern "C" {
#include "probe.h"
#include "seccomp.h"
#include "standins.h"
#include "threads.h"
}

namespace {

Napi::Array IntArray(Napi::Env env, const int *values, size_t n)
{
	Napi::Array out = Napi::Array::New(env, n);
	for (size_t i = 0; i < n; i++)
		out.Set(i, values[i]);
	return out;
}

Napi::Value Probe(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	struct probe_result p;
	int ret = probe_run(&p);
	Napi::Object out = Napi::Object::New(env);

	out.Set("available", ret == 0);
	out.Set("setupErrno", p.setup_errno);
	if (ret < 0)
		return out;
	out.Set("features", p.features);
	out.Set("fastFlags", p.fast_flags);
	out.Set("registeredRing", p.registered_ring != 0);
	out.Set("probeErrno", p.probe_errno);
	out.Set("lastOp", p.last_op);
	Napi::Array ops = Napi::Array::New(env);
	for (int op = 0, n = 0; op < 256; op++)
		if (p.op_supported[op])
			ops.Set(n++, op);
	out.Set("supportedOps", ops);
	out.Set("nopFlagRes", IntArray(env, p.nop_res, PROBE_NOP_FLAG_BITS));
	out.Set("nopUnknownFlagRes", p.nop_unknown_res);
	out.Set("setupFlagRes", IntArray(env, p.setup_res, PROBE_SETUP_BITS));
	return out;
}

Napi::Value Standins(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Napi::Array out = Napi::Array::New(env, standin_count);

	for (int i = 0; i < standin_count; i++) {
		const struct standin_def *d = &standin_defs[i];
		Napi::Object o = Napi::Object::New(env);

		o.Set("name", d->name);
		o.Set("designs", d->designs);
		o.Set("what", d->what);
		o.Set("nopFlags", d->nop_flags);
		o.Set("sqeFlags", d->sqe_flags);
		o.Set("sharing", d->sharing == SHARE_SAME ? "same" : d->sharing == SHARE_OWN ? "own" : "none");
		o.Set("personalityDepth", d->personality_depth);
		out.Set(i, o);
	}
	return out;
}

Napi::Value NopOnce(const Napi::CallbackInfo &info)
{
	auto arg = [&](size_t i) { return info[i].As<Napi::Number>().Uint32Value(); };

	return Napi::Number::New(info.Env(), probe_nop_once(arg(0), arg(1), arg(2), arg(3)));
}

// checkStandins(): each stand-in set up on this thread and run once: [{ name, error, res }].
Napi::Value CheckStandins(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Napi::Array out = Napi::Array::New(env, standin_count);
	int shared_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	for (int i = 0; i < standin_count; i++) {
		struct standin_ctx ctx;
		Napi::Object o = Napi::Object::New(env);

		standin_setup(&ctx, &standin_defs[i], shared_fd);
		o.Set("name", standin_defs[i].name);
		o.Set("error", ctx.error);
		o.Set("res", ctx.check_res);
		standin_teardown(&ctx);
		out.Set(i, o);
	}
	if (shared_fd >= 0)
		close(shared_fd);
	return out;
}

Napi::Value DenyIoUring(const Napi::CallbackInfo &info)
{
	return Napi::Number::New(info.Env(), seccomp_deny_io_uring(info[0].As<Napi::Number>().Int32Value()));
}

} // namespace

// Reads a JS array of numbers into `out`; returns how many (at most `max`).
int ReadList(Napi::Object opts, const char *key, int *out, int max)
{
	Napi::Array a = opts.Get(key).As<Napi::Array>();
	int n = (int)a.Length() < max ? (int)a.Length() : max;

	for (int i = 0; i < n; i++)
		out[i] = a.Get(i).As<Napi::Number>().Int32Value();
	return n;
}

void PoolWorker::ReadPlan(Napi::Object opts)
{
	int cpus[POOL_MAX_THREADS];
	int ncpus = ReadList(opts, "cpus", cpus, POOL_MAX_THREADS);

	cpus_.assign(cpus, cpus + ncpus);
	rounds_ = opts.Get("rounds").As<Napi::Number>().Int32Value();
	sample_ms_ = opts.Get("sampleMs").As<Napi::Number>().DoubleValue();
}

struct pool_plan PoolWorker::Plan()
{
	struct pool_plan plan = {};

	plan.cells = cells_.data();
	plan.ncells = (int)cells_.size();
	plan.rounds = rounds_;
	plan.sample_ms = sample_ms_;
	plan.cpus = cpus_.data();
	plan.ncpus = (int)cpus_.size();
	plan.progress = &ProgressWorker::Report;
	plan.progress_arg = this;
	return plan;
}

Napi::Object PoolWorker::CellObject(Napi::Env env, const struct pool_cell &c) const
{
	Napi::Object o = Napi::Object::New(env);
	Napi::Array ns = Napi::Array::New(env);

	o.Set("batch", c.batch);
	o.Set("threads", c.threads);
	o.Set("error", c.error);
	o.Set("iters", (double)c.iters);
	for (int r = 0; !c.error && r < rounds_; r++)
		ns.Set(r, c.ns_per_req[r]);
	o.Set("nsPerReq", ns);
	return o;
}

ProgressWorker::ProgressWorker(Napi::Env env, Napi::Function onProgress)
	: Napi::AsyncProgressWorker<Progress>(env), deferred_(Napi::Promise::Deferred::New(env))
{
	if (!onProgress.IsEmpty())
		onProgress_ = Napi::Persistent(onProgress);
}

void ProgressWorker::Execute(const ExecutionProgress &progress)
{
	std::string error;

	progress_ = &progress;
	if (!Run(error))
		SetError(error);
}

void ProgressWorker::Report(void *arg, int done, int total)
{
	ProgressWorker *self = static_cast<ProgressWorker *>(arg);
	Progress p = { done, total };

	self->progress_->Send(&p, 1);
}

void ProgressWorker::OnProgress(const Progress *data, size_t count)
{
	if (count == 0 || onProgress_.IsEmpty())
		return;
	Napi::Env env = Env();
	onProgress_.Call({ Napi::Number::New(env, data[count - 1].done), Napi::Number::New(env, data[count - 1].total) });
}

void ProgressWorker::OnOK()
{
	deferred_.Resolve(Result(Env()));
}

void ProgressWorker::OnError(const Napi::Error &e)
{
	deferred_.Reject(e.Value());
}

namespace {

class RunWorker : public ProgressWorker {
public:
	RunWorker(Napi::Env env, const struct run_opts &opts, Napi::Function onProgress)
		: ProgressWorker(env, onProgress), opts_(opts)
	{
	}
	~RunWorker() override { run_free(&result_); }

protected:
	bool Run(std::string &error) override
	{
		opts_.progress = &ProgressWorker::Report;
		opts_.progress_arg = this;
		if (run_standins(&opts_, &result_) == 0)
			return true;
		error = result_.error;
		return false;
	}

	Napi::Value Result(Napi::Env env) override
	{
		Napi::Object out = Napi::Object::New(env);
		Napi::Array cells = Napi::Array::New(env, (size_t)result_.ncells);

		for (int i = 0; i < result_.ncells; i++) {
			const struct run_cell *c = &result_.cells[i];
			Napi::Object o = Napi::Object::New(env);
			Napi::Array ns = Napi::Array::New(env);

			o.Set("standin", standin_defs[c->standin].name);
			o.Set("batch", c->batch);
			o.Set("threads", c->threads);
			o.Set("error", c->error);
			o.Set("iters", (double)c->iters);
			for (int r = 0; !c->error && r < result_.rounds; r++)
				ns.Set(r, c->ns_per_req[r]);
			o.Set("nsPerReq", ns);
			cells.Set(i, o);
		}
		out.Set("rounds", result_.rounds);
		out.Set("cells", cells);
		return out;
	}

private:
	struct run_opts opts_;
	struct run_result result_ = {};
};

// runStandins({ standins: number[], batches, threads, cpus, rounds, sampleMs }, onProgress?)
Napi::Value RunStandins(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Napi::Object o = info[0].As<Napi::Object>();
	struct run_opts opts = {};
	int batches[RUN_MAX_LIST];

	opts.nstandins = ReadList(o, "standins", opts.standins, RUN_MAX_LIST);
	opts.nbatches = ReadList(o, "batches", batches, RUN_MAX_LIST);
	for (int i = 0; i < opts.nbatches; i++)
		opts.batches[i] = (unsigned)batches[i];
	opts.nthreads = ReadList(o, "threads", opts.threads, RUN_MAX_LIST);
	opts.ncpus = ReadList(o, "cpus", opts.cpus, RUN_MAX_THREADS);
	opts.rounds = o.Get("rounds").As<Napi::Number>().Int32Value();
	opts.sample_ms = o.Get("sampleMs").As<Napi::Number>().DoubleValue();
	for (int i = 0; i < opts.nstandins; i++)
		if (opts.standins[i] < 0 || opts.standins[i] >= standin_count) {
			Napi::RangeError::New(env, "stand-in index out of range").ThrowAsJavaScriptException();
			return env.Undefined();
		}
	Napi::Function onProgress = info.Length() > 1 && info[1].IsFunction() ? info[1].As<Napi::Function>() : Napi::Function();
	RunWorker *worker = new RunWorker(env, opts, onProgress);
	Napi::Promise promise = worker->Promise();

	worker->Queue();
	return promise;
}

// cancelRuns(): Ctrl-C; every timed run stops after its current sample and rejects with "cancelled".
Napi::Value CancelRuns(const Napi::CallbackInfo &info)
{
	pool_cancel();
	return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("probe", Napi::Function::New(env, Probe));
	exports.Set("standins", Napi::Function::New(env, Standins));
	exports.Set("nopOnce", Napi::Function::New(env, NopOnce));
	exports.Set("checkStandins", Napi::Function::New(env, CheckStandins));
	exports.Set("runStandins", Napi::Function::New(env, RunStandins));
	exports.Set("denyIoUring", Napi::Function::New(env, DenyIoUring));
	exports.Set("cancelRuns", Napi::Function::New(env, CancelRuns));
	InitDesigns(env, exports);
	InitBpf(env, exports);
	return exports;
}

} // namespace

NODE_API_MODULE(iou_native, Init)
