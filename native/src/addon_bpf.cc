// SPDX-License-Identifier: MIT
// Node glue for the in-kernel BPF stand-ins (bpf_standins.c): the shape
// table, a check that loads, attaches and counts each shape, and the timed
// run on the shared pool with progress.
#include "addon.h"

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "bpf_standins.h"
}

namespace {

struct bpf_btf ReadBtf(Napi::Value value)
{
	Napi::Object o = value.As<Napi::Object>();
	auto get = [&](const char *key) { return o.Get(key).As<Napi::Number>().Int32Value(); };

	return { get("userData"), get("ctx"), get("submitReqType"), get("fileGetType") };
}

Napi::Value BpfShapes(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Napi::Array out = Napi::Array::New(env, BPF_SHAPE_COUNT);

	for (int s = 0; s < BPF_SHAPE_COUNT; s++) {
		const struct bpf_shape_def *d = &bpf_shape_defs[s];
		Napi::Object o = Napi::Object::New(env);

		o.Set("name", d->name);
		o.Set("designs", d->designs);
		o.Set("what", d->what);
		o.Set("tracepoint", d->tracepoint ? Napi::Value(Napi::String::New(env, d->tracepoint)) : env.Null());
		o.Set("baseline", bpf_shape_defs[d->baseline].name);
		out.Set(s, o);
	}
	return out;
}

// bpfCheck(btf, n): loads everything, runs n requests per shape on each of two rings on this thread.
// { error: null, counts: number[], runs: number[] } (calls of the found program by this process, or
// -errno; runs of the shape's program, all processes, or -errno), or { error, errno }.
Napi::Value BpfCheck(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	struct bpf_btf btf = ReadBtf(info[0]);
	int n = info[1].As<Napi::Number>().Int32Value();
	struct bpf_standins st;
	Napi::Object out = Napi::Object::New(env);
	int ret = bpf_standins_load(&st, &btf);

	if (ret < 0) {
		out.Set("error", st.error);
		out.Set("errno", ret);
		return out;
	}
	Napi::Array counts = Napi::Array::New(env, BPF_SHAPE_COUNT);
	Napi::Array runs = Napi::Array::New(env, BPF_SHAPE_COUNT);

	for (int s = 0; s < BPF_SHAPE_COUNT; s++) {
		struct bpf_check c = bpf_standins_check(&st, s, n);

		counts.Set(s, (double)c.calls);
		runs.Set(s, (double)c.runs);
	}
	bpf_standins_unload(&st);
	out.Set("error", env.Null());
	out.Set("counts", counts);
	out.Set("runs", runs);
	return out;
}

class BpfWorker : public PoolWorker {
public:
	BpfWorker(Napi::Env env, Napi::Function onProgress) : PoolWorker(env, onProgress) {}

	struct bpf_btf btf_ = {};
	std::vector<int> shapes_;

protected:
	bool Run(std::string &error) override
	{
		struct bpf_standins st;
		char err[256] = "";

		if (bpf_standins_load(&st, &btf_) < 0) {
			error = st.error;
			return false;
		}
		struct bpf_run_opts o = {};

		o.shapes = shapes_.data();
		o.nshapes = (int)shapes_.size();
		o.plan = Plan();
		int ret = bpf_standins_run(&st, &o, err, sizeof(err));

		bpf_standins_unload(&st);
		if (ret == 0)
			return true;
		error = err;
		return false;
	}

	Napi::Value Result(Napi::Env env) override
	{
		Napi::Array cells = Napi::Array::New(env, cells_.size());

		for (size_t i = 0; i < cells_.size(); i++) {
			Napi::Object o = CellObject(env, cells_[i]);

			o.Set("shape", bpf_shape_defs[shapes_[(size_t)cells_[i].variant]].name);
			cells.Set(i, o);
		}
		return cells;
	}
};

// runBpfStandins(btf, { shapes: number[], batches, threads, cpus, rounds, sampleMs }, onProgress?)
Napi::Value RunBpfStandins(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Napi::Object o = info[1].As<Napi::Object>();
	Napi::Function onProgress = info.Length() > 2 && info[2].IsFunction() ? info[2].As<Napi::Function>() : Napi::Function();
	BpfWorker *worker = new BpfWorker(env, onProgress);
	int shapes[BPF_SHAPE_COUNT], batches[16], threads[16];
	int nshapes = ReadList(o, "shapes", shapes, BPF_SHAPE_COUNT);
	int nbatches = ReadList(o, "batches", batches, 16);
	int nthreads = ReadList(o, "threads", threads, 16);

	worker->btf_ = ReadBtf(info[0]);
	for (int i = 0; i < nshapes; i++) {
		if (shapes[i] < 0 || shapes[i] >= BPF_SHAPE_COUNT) {
			delete worker;
			Napi::RangeError::New(env, "BPF stand-in shape out of range").ThrowAsJavaScriptException();
			return env.Undefined();
		}
		worker->shapes_.push_back(shapes[i]);
	}
	// Round order: threads, then batch, then shape (each shape next to its baseline).
	for (int t = 0; t < nthreads; t++)
		for (int b = 0; b < nbatches; b++)
			for (int s = 0; s < nshapes; s++) {
				struct pool_cell c = {};

				c.variant = s;
				c.batch = (unsigned)batches[b];
				c.threads = threads[t];
				worker->cells_.push_back(c);
			}
	worker->ReadPlan(o);
	Napi::Promise promise = worker->Promise();

	worker->Queue();
	return promise;
}

} // namespace

void InitBpf(Napi::Env env, Napi::Object exports)
{
	exports.Set("bpfShapes", Napi::Function::New(env, BpfShapes));
	exports.Set("bpfCheck", Napi::Function::New(env, BpfCheck));
	exports.Set("runBpfStandins", Napi::Function::New(env, RunBpfStandins));
}
