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
#include "struct_ops.h"
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

// The registration lane's real struct_ops attach/detach (struct_ops.h): new TcpCaOps(btf) loads and
// fills the map or throws the one-line reason (with .errno); each method is one attach or detach.
class TcpCaOps : public Napi::ObjectWrap<TcpCaOps> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, "TcpCaOps",
				   {
					   InstanceMethod("attach", &TcpCaOps::Attach),
					   InstanceMethod("detach", &TcpCaOps::Detach),
					   InstanceMethod("listed", &TcpCaOps::Listed),
					   InstanceMethod("time", &TcpCaOps::Time),
					   InstanceMethod("info", &TcpCaOps::Info),
					   InstanceMethod("close", &TcpCaOps::Close),
				   });
	}

	TcpCaOps(const Napi::CallbackInfo &info) : Napi::ObjectWrap<TcpCaOps>(info)
	{
		Napi::Object o = info[0].As<Napi::Object>();
		auto get = [&](const char *key) { return o.Get(key).As<Napi::Number>().Int32Value(); };
		Napi::Array index = o.Get("memberIndex").As<Napi::Array>();
		Napi::Array off = o.Get("memberOff").As<Napi::Array>();
		struct tcp_ca_btf btf = {};

		btf.ops_type = get("opsType");
		btf.value_type = get("valueType");
		btf.value_size = get("valueSize");
		btf.data_off = get("dataOff");
		btf.name_off = get("nameOff");
		for (uint32_t i = 0; i < 3; i++) {
			btf.member_index[i] = index.Get(i).As<Napi::Number>().Int32Value();
			btf.member_off[i] = off.Get(i).As<Napi::Number>().Int32Value();
		}
		int ret = tcp_ca_open(&s_, &btf);

		if (ret < 0) {
			Napi::Error e = Napi::Error::New(info.Env(), s_.error[0] ? s_.error : "struct_ops open failed");

			e.Set("errno", Napi::Number::New(info.Env(), ret));
			e.ThrowAsJavaScriptException();
			return;
		}
		open_ = true;
	}

	~TcpCaOps() override
	{
		if (open_)
			tcp_ca_close(&s_);
	}

private:
	Napi::Value Result(Napi::Env env, int ret)
	{
		Napi::Object out = Napi::Object::New(env);

		out.Set("errno", ret);
		out.Set("error", ret < 0 && s_.error[0] ? Napi::Value(Napi::String::New(env, s_.error)) : env.Null());
		return out;
	}

	Napi::Value Attach(const Napi::CallbackInfo &info) { return Result(info.Env(), open_ ? tcp_ca_attach(&s_) : -EBADF); }
	Napi::Value Detach(const Napi::CallbackInfo &info) { return Result(info.Env(), open_ ? tcp_ca_detach(&s_) : -EBADF); }
	Napi::Value Listed(const Napi::CallbackInfo &info)
	{
		return Napi::Number::New(info.Env(), open_ ? tcp_ca_listed(&s_) : -EBADF);
	}

	// time(reps): { errno, error, attachNs: number[], detachNs: number[] }
	Napi::Value Time(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		int reps = info[0].As<Napi::Number>().Int32Value();

		if (reps < 1 || reps > 100000) {
			Napi::RangeError::New(env, "struct_ops reps out of range").ThrowAsJavaScriptException();
			return env.Undefined();
		}
		std::vector<double> at((size_t)reps), de((size_t)reps);
		int ret = open_ ? tcp_ca_time(&s_, reps, at.data(), de.data()) : -EBADF;
		Napi::Object out = Result(env, ret).As<Napi::Object>();
		Napi::Array a = Napi::Array::New(env), d = Napi::Array::New(env);

		for (int i = 0; ret == 0 && i < reps; i++) {
			a.Set(i, at[i]);
			d.Set(i, de[i]);
		}
		out.Set("attachNs", a);
		out.Set("detachNs", d);
		return out;
	}

	// info(): { name, linkDetach } (linkDetach false once BPF_LINK_DETACH was refused: close alone detaches)
	Napi::Value Info(const Napi::CallbackInfo &info)
	{
		Napi::Object out = Napi::Object::New(info.Env());

		out.Set("name", s_.name);
		out.Set("linkDetach", s_.detach_cmd != 0);
		return out;
	}

	Napi::Value Close(const Napi::CallbackInfo &info)
	{
		if (open_)
			tcp_ca_close(&s_);
		open_ = false;
		return info.Env().Undefined();
	}

	struct tcp_ca_ops s_ = {};
	bool open_ = false;
};

} // namespace

void InitBpf(Napi::Env env, Napi::Object exports)
{
	exports.Set("TcpCaOps", TcpCaOps::Define(env));
	exports.Set("bpfShapes", Napi::Function::New(env, BpfShapes));
	exports.Set("bpfCheck", Napi::Function::New(env, BpfCheck));
	exports.Set("runBpfStandins", Napi::Function::New(env, RunBpfStandins));
}
