// SPDX-License-Identifier: MIT
// Node glue for the C designs: the registry, NativeWorld (one design
// instance driven call by call, for the differential tests), the native
// lane's timed run, and the concurrent stress, including a handle that
// several worker_threads can share.
#include "addon.h"

#include <map>
#include <mutex>
#include <string>
#include <vector>

extern "C" {
#include "model/api.h"
#include "model/lane.h"
#include "model/regbench.h"
#include "model/stress.h"
}

namespace {

const char *KindName(int kind)
{
	return kind == 0 ? "id" : kind == 1 ? "fd" : "fixed";
}

const char *ScopeName(int scope)
{
	return scope == 0 ? "global" : scope == 1 ? "ring" : "process";
}

int KindOf(const std::string &kind)
{
	return kind == "id" ? 0 : kind == "fd" ? 1 : 2;
}

Napi::Value DesignDefs(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Napi::Array out = Napi::Array::New(env);
	struct nw_design_info d;

	for (int i = 0; nw_design_info(i, &d) == 0; i++) {
		Napi::Object o = Napi::Object::New(env);

		o.Set("name", d.name);
		o.Set("nameKind", KindName(d.name_kind));
		o.Set("scope", ScopeName(d.scope));
		o.Set("idMin", (double)d.id_min);
		o.Set("idMax", d.id_max < 0 ? env.Null() : Napi::Number::New(env, (double)d.id_max));
		o.Set("setupFlag", d.setup_flag != 0);
		o.Set("discovery", d.discovery != 0);
		out.Set(i, o);
	}
	return out;
}

Napi::Object Violations(Napi::Env env, const struct nw_violations &v)
{
	Napi::Object o = Napi::Object::New(env);

	o.Set("freedCalls", (double)v.freed_calls);
	o.Set("nullCalls", (double)v.null_calls);
	o.Set("refUnderflow", (double)v.ref_underflow);
	o.Set("oob", (double)v.oob);
	o.Set("lostRequests", (double)v.lost_requests);
	o.Set("nullDerefs", (double)v.null_derefs);
	o.Set("staleFreedCalls", (double)v.stale_freed_calls);
	return o;
}

struct nw_registration ReadRegistration(Napi::Value value)
{
	Napi::Object o = value.As<Napi::Object>();
	Napi::Object name = o.Get("name").As<Napi::Object>();

	return {
		KindOf(name.Get("kind").As<Napi::String>().Utf8Value()),
		(long)name.Get("value").As<Napi::Number>().Int64Value(),
		o.Get("linkFd").As<Napi::Number>().Int32Value(),
		o.Get("ringFd").As<Napi::Number>().Int32Value(),
	};
}

// One C design instance with two processes; each method is one syscall.
class NativeWorld : public Napi::ObjectWrap<NativeWorld> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, "NativeWorld",
				   {
					   InstanceMethod("load", &NativeWorld::Load),
					   InstanceMethod("setup", &NativeWorld::Setup),
					   InstanceMethod("register", &NativeWorld::Register),
					   InstanceMethod("unregister", &NativeWorld::Unregister),
					   InstanceMethod("submit", &NativeWorld::Submit),
					   InstanceMethod("reap", &NativeWorld::Reap),
					   InstanceMethod("close", &NativeWorld::Close),
					   InstanceMethod("passFd", &NativeWorld::PassFd),
					   InstanceMethod("discover", &NativeWorld::Discover),
					   InstanceMethod("exit", &NativeWorld::Exit),
					   InstanceMethod("settle", &NativeWorld::Settle),
					   InstanceMethod("takeCqes", &NativeWorld::TakeCqes),
					   InstanceMethod("target", &NativeWorld::Target),
					   InstanceMethod("programs", &NativeWorld::Programs),
					   InstanceMethod("fds", &NativeWorld::Fds),
					   InstanceMethod("violations", &NativeWorld::GetViolations),
					   InstanceMethod("takeLog", &NativeWorld::TakeLog),
					   InstanceMethod("destroy", &NativeWorld::Destroy),
				   });
	}

	// new NativeWorld(designName, fdLimit)
	NativeWorld(const Napi::CallbackInfo &info) : Napi::ObjectWrap<NativeWorld>(info)
	{
		std::string name = info[0].As<Napi::String>().Utf8Value();
		int fd_limit = info.Length() > 1 ? info[1].As<Napi::Number>().Int32Value() : 1024;

		w_ = nw_create(name.c_str(), fd_limit, 1);
		if (!w_)
			Napi::Error::New(info.Env(), "unknown C design '" + name + "'").ThrowAsJavaScriptException();
	}

	~NativeWorld() override
	{
		if (w_)
			nw_destroy(w_);
	}

private:
	int Int(const Napi::CallbackInfo &info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }

	bool Alive(const Napi::CallbackInfo &info)
	{
		if (w_)
			return true;
		Napi::Error::New(info.Env(), "NativeWorld used after destroy()").ThrowAsJavaScriptException();
		return false;
	}

	// load(proc, { prep: number|null, issue: { res, ret }|null, fail, cleanup })
	Napi::Value Load(const Napi::CallbackInfo &info)
	{
		if (!Alive(info))
			return info.Env().Undefined();
		Napi::Object s = info[1].As<Napi::Object>();
		struct nw_spec spec = {};
		Napi::Value prep = s.Get("prep"), issue = s.Get("issue");

		spec.has_prep = !prep.IsNull();
		spec.prep_ret = spec.has_prep ? prep.As<Napi::Number>().Int32Value() : 0;
		spec.has_issue = !issue.IsNull();
		if (spec.has_issue) {
			spec.issue_res = issue.As<Napi::Object>().Get("res").As<Napi::Number>().Int32Value();
			spec.issue_ret = issue.As<Napi::Object>().Get("ret").As<Napi::Number>().Int32Value();
		}
		spec.has_fail = s.Get("fail").ToBoolean();
		spec.has_cleanup = s.Get("cleanup").ToBoolean();
		return Napi::Number::New(info.Env(), nw_load(w_, Int(info, 0), &spec));
	}

	// setup(proc, bpf, residue?: { op, ops, res }): ops is a program id, 0 for none
	Napi::Value Setup(const Napi::CallbackInfo &info)
	{
		if (!Alive(info))
			return info.Env().Undefined();
		struct nw_residue residue = {};
		bool has_residue = info.Length() > 2 && info[2].IsObject();

		if (has_residue) {
			Napi::Object r = info[2].As<Napi::Object>();

			residue.op = r.Get("op").As<Napi::Number>().Uint32Value();
			residue.ops = r.Get("ops").As<Napi::Number>().Int32Value();
			residue.res = r.Get("res").As<Napi::Number>().Int32Value();
		}
		return Napi::Number::New(info.Env(),
					 nw_setup(w_, Int(info, 0), info[1].ToBoolean(), has_residue ? &residue : nullptr));
	}

	Napi::Value Exit(const Napi::CallbackInfo &info)
	{
		if (!Alive(info))
			return info.Env().Undefined();
		return Napi::Number::New(info.Env(), nw_exit(w_, Int(info, 0)));
	}

	Napi::Value Settle(const Napi::CallbackInfo &info)
	{
		if (Alive(info))
			nw_settle(w_);
		return info.Env().Undefined();
	}

	// takeCqes(): [{ ring, userData, res }] from every ring, rings in creation order
	Napi::Value TakeCqes(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();

		if (!Alive(info))
			return env.Undefined();
		std::vector<struct nw_cqe_seen> cqes(4096);
		int n = nw_take_cqes(w_, cqes.data(), (int)cqes.size());
		Napi::Array out = Napi::Array::New(env, (size_t)(n > 0 ? n : 0));

		for (int i = 0; i < n; i++) {
			Napi::Object o = Napi::Object::New(env);

			o.Set("ring", cqes[i].ring);
			o.Set("userData", (double)cqes[i].user_data);
			o.Set("res", cqes[i].res);
			out.Set(i, o);
		}
		return out;
	}

	// register(proc, progFd, ringFd|null, id|null): a registration, or a negative errno
	Napi::Value Register(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();

		if (!Alive(info))
			return env.Undefined();
		struct nw_registration reg;
		int ring_fd = info[2].IsNull() ? -1 : Int(info, 2);
		long id = info[3].IsNull() ? -1 : (long)info[3].As<Napi::Number>().Int64Value();
		int ret = nw_register(w_, Int(info, 0), Int(info, 1), ring_fd, id, &reg);

		if (ret < 0)
			return Napi::Number::New(env, ret);
		Napi::Object out = Napi::Object::New(env), name = Napi::Object::New(env);

		name.Set("kind", KindName(reg.kind));
		name.Set("value", (double)reg.value);
		out.Set("name", name);
		out.Set("linkFd", reg.link_fd);
		out.Set("ringFd", reg.ring_fd);
		return out;
	}

	Napi::Value Unregister(const Napi::CallbackInfo &info)
	{
		if (!Alive(info))
			return info.Env().Undefined();
		struct nw_registration reg = ReadRegistration(info[1]);

		return Napi::Number::New(info.Env(), nw_unregister(w_, Int(info, 0), &reg));
	}

	// submit(proc, ringFd, [{ bpfOpFlags, fd, fixedFile, async, userData }])
	Napi::Value Submit(const Napi::CallbackInfo &info)
	{
		if (!Alive(info))
			return info.Env().Undefined();
		Napi::Array a = info[2].As<Napi::Array>();
		std::vector<struct nw_sqe> sqes(a.Length());

		for (uint32_t i = 0; i < a.Length(); i++) {
			Napi::Object s = a.Get(i).As<Napi::Object>();

			sqes[i].bpf_op_flags = s.Get("bpfOpFlags").As<Napi::Number>().Uint32Value();
			sqes[i].fd = s.Get("fd").As<Napi::Number>().Int32Value();
			sqes[i].fixed_file = s.Get("fixedFile").ToBoolean();
			sqes[i].async = s.Get("async").ToBoolean();
			sqes[i].user_data = (uint64_t)s.Get("userData").As<Napi::Number>().Int64Value();
		}
		return Napi::Number::New(info.Env(), nw_submit(w_, Int(info, 0), Int(info, 1), sqes.data(), (int)sqes.size()));
	}

	// reap(proc, ringFd): [{ userData, res }], or a negative errno
	Napi::Value Reap(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();

		if (!Alive(info))
			return env.Undefined();
		struct nw_cqe cqes[256];
		int n = nw_reap(w_, Int(info, 0), Int(info, 1), cqes, 256);

		if (n < 0)
			return Napi::Number::New(env, n);
		Napi::Array out = Napi::Array::New(env, (size_t)n);

		for (int i = 0; i < n; i++) {
			Napi::Object o = Napi::Object::New(env);

			o.Set("userData", (double)cqes[i].user_data);
			o.Set("res", cqes[i].res);
			out.Set(i, o);
		}
		return out;
	}

	Napi::Value Close(const Napi::CallbackInfo &info)
	{
		if (!Alive(info))
			return info.Env().Undefined();
		return Napi::Number::New(info.Env(), nw_close(w_, Int(info, 0), Int(info, 1)));
	}

	Napi::Value PassFd(const Napi::CallbackInfo &info)
	{
		if (!Alive(info))
			return info.Env().Undefined();
		return Napi::Number::New(info.Env(), nw_pass_fd(w_, Int(info, 0), Int(info, 1), Int(info, 2)));
	}

	// discover(proc): used ids, or a negative errno (-EOPNOTSUPP without discovery)
	Napi::Value Discover(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();

		if (!Alive(info))
			return env.Undefined();
		std::vector<long> ids(65536);
		int n = nw_discover(w_, Int(info, 0), ids.data(), (int)ids.size());

		if (n < 0)
			return Napi::Number::New(env, n);
		Napi::Array out = Napi::Array::New(env, (size_t)n);

		for (int i = 0; i < n; i++)
			out.Set(i, (double)ids[i]);
		return out;
	}

	Napi::Value Target(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();

		if (!Alive(info))
			return env.Undefined();
		struct nw_registration reg = ReadRegistration(info[0]);
		struct nw_sqe sqe = {};
		Napi::Object out = Napi::Object::New(env);

		nw_target(w_, &reg, &sqe);
		out.Set("bpfOpFlags", sqe.bpf_op_flags);
		out.Set("fd", sqe.fd);
		out.Set("fixedFile", sqe.fixed_file != 0);
		return out;
	}

	Napi::Value Programs(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();

		if (!Alive(info))
			return env.Undefined();
		std::vector<struct nw_program> progs(4096);
		int n = nw_programs(w_, progs.data(), (int)progs.size());
		Napi::Array out = Napi::Array::New(env, (size_t)n);

		for (int i = 0; i < n; i++) {
			Napi::Object o = Napi::Object::New(env), calls = Napi::Object::New(env);
			const char *names[] = { "prep", "issue", "fail", "cleanup" };

			o.Set("id", progs[i].id);
			o.Set("released", progs[i].released != 0);
			o.Set("freed", progs[i].freed != 0);
			o.Set("refs", (double)progs[i].refs);
			for (int cb = 0; cb < 4; cb++)
				calls.Set(names[cb], (double)progs[i].calls[cb]);
			o.Set("calls", calls);
			out.Set(i, o);
		}
		return out;
	}

	Napi::Value Fds(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();

		if (!Alive(info))
			return env.Undefined();
		std::vector<struct nw_fd> fds(4096);
		int n = nw_fds(w_, Int(info, 0), fds.data(), (int)fds.size());
		Napi::Array out = Napi::Array::New(env, (size_t)n);
		const char *kinds[] = { "bpf-prog", "bpf-link", "io_uring" };

		for (int i = 0; i < n; i++) {
			Napi::Object o = Napi::Object::New(env);

			o.Set("fd", fds[i].fd);
			o.Set("kind", kinds[fds[i].kind]);
			o.Set("object", fds[i].object);
			out.Set(i, o);
		}
		return out;
	}

	Napi::Value GetViolations(const Napi::CallbackInfo &info)
	{
		if (!Alive(info))
			return info.Env().Undefined();
		struct nw_violations v;

		nw_violations(w_, &v);
		return Violations(info.Env(), v);
	}

	Napi::Value TakeLog(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();

		if (!Alive(info))
			return env.Undefined();
		struct nw_log_event events[256];
		int n = nw_take_log(w_, events, 256);
		Napi::Array out = Napi::Array::New(env, (size_t)n);
		const char *names[] = { "prep", "issue", "fail", "cleanup" };

		for (int i = 0; i < n; i++) {
			Napi::Object o = Napi::Object::New(env);

			o.Set("program", events[i].program);
			o.Set("callback", names[events[i].callback]);
			o.Set("nullCall", events[i].null_call != 0);
			o.Set("freed", events[i].freed != 0);
			out.Set(i, o);
		}
		return out;
	}

	Napi::Value Destroy(const Napi::CallbackInfo &info)
	{
		if (w_)
			nw_destroy(w_);
		w_ = nullptr;
		return info.Env().Undefined();
	}

	struct nw_world *w_ = nullptr;
};

// The registration lane's world: one design, N rings, one program (model/regbench.h).
class RegBench : public Napi::ObjectWrap<RegBench> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, "RegBench",
				   {
					   InstanceMethod("calls", &RegBench::Calls),
					   InstanceMethod("register", &RegBench::Register),
					   InstanceMethod("unregister", &RegBench::Unregister),
					   InstanceMethod("probe", &RegBench::Probe),
					   InstanceMethod("time", &RegBench::Time),
					   InstanceMethod("destroy", &RegBench::Destroy),
				   });
	}

	// new RegBench(designName, rings): throws with the errno when the world cannot be built
	RegBench(const Napi::CallbackInfo &info) : Napi::ObjectWrap<RegBench>(info)
	{
		std::string name = info[0].As<Napi::String>().Utf8Value();
		int err = 0;

		b_ = nw_regbench_create(name.c_str(), info[1].As<Napi::Number>().Int32Value(), &err);
		if (!b_)
			Napi::Error::New(info.Env(), "cannot build a registration world for '" + name + "': errno " +
							     std::to_string(-err))
				.ThrowAsJavaScriptException();
	}

	~RegBench() override
	{
		if (b_)
			nw_regbench_destroy(b_);
	}

private:
	bool Live(const Napi::CallbackInfo &info)
	{
		if (b_)
			return true;
		Napi::Error::New(info.Env(), "registration world destroyed").ThrowAsJavaScriptException();
		return false;
	}

	Napi::Value Calls(const Napi::CallbackInfo &info)
	{
		return Live(info) ? Napi::Number::New(info.Env(), nw_regbench_calls(b_)) : info.Env().Undefined();
	}

	Napi::Value Register(const Napi::CallbackInfo &info)
	{
		return Live(info) ? Napi::Number::New(info.Env(), nw_regbench_register(b_)) : info.Env().Undefined();
	}

	Napi::Value Unregister(const Napi::CallbackInfo &info)
	{
		return Live(info) ? Napi::Number::New(info.Env(), nw_regbench_unregister(b_)) : info.Env().Undefined();
	}

	Napi::Value Probe(const Napi::CallbackInfo &info)
	{
		return Live(info) ? Napi::Number::New(info.Env(), nw_regbench_probe(b_)) : info.Env().Undefined();
	}

	// time(reps): { error, registerNs: number[], unregisterNs: number[] }
	Napi::Value Time(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();

		if (!Live(info))
			return env.Undefined();
		int reps = info[0].As<Napi::Number>().Int32Value();

		if (reps < 1 || reps > 1000000) {
			Napi::RangeError::New(env, "registration reps out of range").ThrowAsJavaScriptException();
			return env.Undefined();
		}
		std::vector<double> reg((size_t)reps), unreg((size_t)reps);
		int ret = nw_regbench_time(b_, reps, reg.data(), unreg.data());
		Napi::Object out = Napi::Object::New(env);
		Napi::Array r = Napi::Array::New(env, reps), u = Napi::Array::New(env, reps);

		for (int i = 0; ret == 0 && i < reps; i++) {
			r.Set(i, reg[i]);
			u.Set(i, unreg[i]);
		}
		out.Set("error", ret);
		out.Set("registerNs", ret == 0 ? r : Napi::Array::New(env));
		out.Set("unregisterNs", ret == 0 ? u : Napi::Array::New(env));
		return out;
	}

	Napi::Value Destroy(const Napi::CallbackInfo &info)
	{
		if (b_)
			nw_regbench_destroy(b_);
		b_ = nullptr;
		return info.Env().Undefined();
	}

	struct nw_regbench *b_ = nullptr;
};

class LaneWorker : public PoolWorker {
public:
	LaneWorker(Napi::Env env, Napi::Function onProgress) : PoolWorker(env, onProgress) {}

	std::vector<std::string> designs_;
	std::vector<struct nw_workload> workloads_;

protected:
	bool Run(std::string &error) override
	{
		char err[256] = "";
		struct pool_plan plan = Plan();

		for (size_t i = 0; i < workloads_.size(); i++)
			workloads_[i].design = designs_[i].c_str();
		if (nw_lane_run(workloads_.data(), (int)workloads_.size(), &plan, err, sizeof(err)) == 0)
			return true;
		error = err;
		return false;
	}

	Napi::Value Result(Napi::Env env) override
	{
		Napi::Array cells = Napi::Array::New(env, cells_.size());

		for (size_t i = 0; i < cells_.size(); i++) {
			Napi::Object o = CellObject(env, cells_[i]);

			o.Set("workload", cells_[i].variant);
			cells.Set(i, o);
		}
		return cells;
	}
};

// runNativeLane([{ design, programs, loop, own }], { cells: [{ workload, batch, threads }], rounds, sampleMs, cpus }, onProgress?)
Napi::Value RunNativeLane(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	Napi::Array workloads = info[0].As<Napi::Array>();
	Napi::Object plan = info[1].As<Napi::Object>();
	Napi::Array cells = plan.Get("cells").As<Napi::Array>();
	Napi::Function onProgress = info.Length() > 2 && info[2].IsFunction() ? info[2].As<Napi::Function>() : Napi::Function();
	LaneWorker *worker = new LaneWorker(env, onProgress);

	for (uint32_t i = 0; i < workloads.Length(); i++) {
		Napi::Object o = workloads.Get(i).As<Napi::Object>();
		std::string loop = o.Get("loop").As<Napi::String>().Utf8Value();

		worker->designs_.push_back(o.Get("design").As<Napi::String>().Utf8Value());
		worker->workloads_.push_back({ nullptr, o.Get("programs").As<Napi::Number>().Int32Value(),
					      loop == "pure"	? NW_LOOP_PURE
					      : loop == "ring"	? NW_LOOP_RING
					      : loop == "iowq"	? NW_LOOP_IOWQ
								: NW_LOOP_RING_ONLY,
					      o.Get("own").ToBoolean() ? 1 : 0 });
	}
	for (uint32_t i = 0; i < cells.Length(); i++) {
		Napi::Object o = cells.Get(i).As<Napi::Object>();
		struct pool_cell c = {};

		c.variant = o.Get("workload").As<Napi::Number>().Int32Value();
		c.batch = o.Get("batch").As<Napi::Number>().Uint32Value();
		c.threads = o.Get("threads").As<Napi::Number>().Int32Value();
		if (c.variant < 0 || c.variant >= (int)workloads.Length() || c.batch < 1 || c.batch > 256 ||
		    c.threads < 1 || c.threads > POOL_MAX_THREADS) {
			delete worker;
			Napi::RangeError::New(env, "native lane cell out of range").ThrowAsJavaScriptException();
			return env.Undefined();
		}
		worker->cells_.push_back(c);
	}
	worker->ReadPlan(plan);
	Napi::Promise promise = worker->Promise();

	worker->Queue();
	return promise;
}

Napi::Object Stats(Napi::Env env, const struct nw_stress_stats &s)
{
	Napi::Object o = Napi::Object::New(env);

	o.Set("registered", (double)s.registered);
	o.Set("refused", (double)s.refused);
	o.Set("unregistered", (double)s.unregistered);
	o.Set("submitted", (double)s.submitted);
	o.Set("completed", (double)s.completed);
	o.Set("wrongProgram", (double)s.wrong_program);
	o.Set("failed", (double)s.failed);
	o.Set("missing", (double)s.missing);
	o.Set("ringRestarts", (double)s.ring_restarts);
	o.Set("crossRegistered", (double)s.cross_registered);
	o.Set("crossCompleted", (double)s.cross_completed);
	o.Set("crossEmpty", (double)s.cross_empty);
	o.Set("unregisterWaits", (double)s.unregister_waits);
	o.Set("unlistedFailed", (double)s.unlisted_failed);
	o.Set("unflaggedRings", (double)s.unflagged_rings);
	o.Set("unflaggedFailed", (double)s.unflagged_failed);
	return o;
}

// selfDeadlock(): what nw_self_deadlock() saw (the per-ctx self-deadlock, pinned by a watchdog)
Napi::Value SelfDeadlock(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	struct nw_self_deadlock r;
	int ret = nw_self_deadlock(&r);

	if (ret < 0) {
		Napi::Error::New(env, "cannot set up the self-deadlock world: errno " + std::to_string(-ret))
			.ThrowAsJavaScriptException();
		return env.Undefined();
	}
	Napi::Object o = Napi::Object::New(env);

	o.Set("completed", r.completed != 0);
	o.Set("caught", r.caught != 0);
	o.Set("unregisterRet", r.unregister_ret);
	o.Set("freed", r.freed != 0);
	o.Set("violations", Violations(env, r.violations));
	return o;
}

// Stress worlds shared between worker_threads: the addon's memory is one per process.
std::mutex shared_lock;
std::map<int, struct nw_world *> shared_worlds;
int next_handle = 1;

struct nw_world *SharedWorld(const Napi::CallbackInfo &info)
{
	std::lock_guard<std::mutex> guard(shared_lock);
	auto it = shared_worlds.find(info[0].As<Napi::Number>().Int32Value());

	if (it != shared_worlds.end())
		return it->second;
	Napi::Error::New(info.Env(), "no such shared stress world").ThrowAsJavaScriptException();
	return nullptr;
}

// stressCreate(design): a handle any worker thread can pass to stressThread()
Napi::Value StressCreate(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	std::string name = info[0].As<Napi::String>().Utf8Value();
	struct nw_world *w = nw_create(name.c_str(), 4096, 0);

	if (!w || nw_stress_prepare(w) < 0) {
		if (w)
			nw_destroy(w);
		Napi::Error::New(env, "cannot prepare a stress world for '" + name + "'").ThrowAsJavaScriptException();
		return env.Undefined();
	}
	std::lock_guard<std::mutex> guard(shared_lock);
	int handle = next_handle++;

	shared_worlds[handle] = w;
	return Napi::Number::New(env, handle);
}

// stressThread(handle, seed, ops): runs on the calling (worker) thread; returns its stats
Napi::Value StressThread(const Napi::CallbackInfo &info)
{
	struct nw_world *w = SharedWorld(info);
	struct nw_stress_stats s = {};

	if (!w)
		return info.Env().Undefined();
	nw_stress_thread(w, info[1].As<Napi::Number>().Uint32Value(),
			 (unsigned long)info[2].As<Napi::Number>().Int64Value(), &s);
	return Stats(info.Env(), s);
}

// stressFinish(handle): the world's violations; the world is gone afterwards
Napi::Value StressFinish(const Napi::CallbackInfo &info)
{
	struct nw_world *w = SharedWorld(info);
	struct nw_violations v;

	if (!w)
		return info.Env().Undefined();
	nw_violations(w, &v);
	{
		std::lock_guard<std::mutex> guard(shared_lock);
		shared_worlds.erase(info[0].As<Napi::Number>().Int32Value());
	}
	nw_destroy(w);
	return Violations(info.Env(), v);
}

} // namespace

void InitDesigns(Napi::Env env, Napi::Object exports)
{
	exports.Set("designDefs", Napi::Function::New(env, DesignDefs));
	exports.Set("NativeWorld", NativeWorld::Define(env));
	exports.Set("RegBench", RegBench::Define(env));
	exports.Set("runNativeLane", Napi::Function::New(env, RunNativeLane));
	exports.Set("stressCreate", Napi::Function::New(env, StressCreate));
	exports.Set("stressThread", Napi::Function::New(env, StressThread));
	exports.Set("stressFinish", Napi::Function::New(env, StressFinish));
	exports.Set("selfDeadlock", Napi::Function::New(env, SelfDeadlock));
}
