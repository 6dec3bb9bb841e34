// SPDX-License-Identifier: MIT
// What the two halves of the addon share: the progress-reporting promise
// worker and list reading. addon.cc holds the kernel lane, addon_designs.cc
// the C designs (worlds, the native lane, the stress).
#ifndef IOU_ADDON_H
#define IOU_ADDON_H

#include <napi.h>

#include <string>
#include <vector>

extern "C" {
#include "pool.h"
}

struct Progress {
	int done, total;
};

// A job on the libuv pool that resolves a promise and reports (done, total) to an optional callback.
class ProgressWorker : public Napi::AsyncProgressWorker<Progress> {
public:
	ProgressWorker(Napi::Env env, Napi::Function onProgress);
	Napi::Promise Promise() { return deferred_.Promise(); }

protected:
	// Runs on the worker thread; returns false with `error` set on failure.
	virtual bool Run(std::string &error) = 0;
	// Builds the resolved value on the JS thread.
	virtual Napi::Value Result(Napi::Env env) = 0;
	// For the C side's progress callbacks: arg is this worker.
	static void Report(void *arg, int done, int total);

private:
	void Execute(const ExecutionProgress &progress) override;
	void OnProgress(const Progress *data, size_t count) override;
	void OnOK() override;
	void OnError(const Napi::Error &e) override;

	const ExecutionProgress *progress_ = nullptr;
	Napi::Promise::Deferred deferred_;
	Napi::FunctionReference onProgress_;
};

// A ProgressWorker that times cells on the shared pool (pool.c): it owns the
// cells and their values, and the plan's rounds, sample length and CPUs.
class PoolWorker : public ProgressWorker {
public:
	PoolWorker(Napi::Env env, Napi::Function onProgress) : ProgressWorker(env, onProgress) {}
	~PoolWorker() override { pool_cells_free(cells_.data(), (int)cells_.size()); }

	// Reads { rounds, sampleMs, cpus } from the JS options.
	void ReadPlan(Napi::Object opts);

	std::vector<struct pool_cell> cells_;

protected:
	// The plan over cells_, reporting progress through this worker.
	struct pool_plan Plan();
	// One cell as JS: { batch, threads, error, iters, nsPerReq } (the caller adds what it names).
	Napi::Object CellObject(Napi::Env env, const struct pool_cell &cell) const;

	std::vector<int> cpus_;
	int rounds_ = 1;
	double sample_ms_ = 10;
};

// Reads a JS array of numbers into `out`; returns how many (at most `max`).
int ReadList(Napi::Object opts, const char *key, int *out, int max);

// Adds the C-design functions to the addon's exports.
void InitDesigns(Napi::Env env, Napi::Object exports);
// Adds the in-kernel BPF stand-ins to the addon's exports.
void InitBpf(Napi::Env env, Napi::Object exports);

#endif
