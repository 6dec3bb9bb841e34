{
  "variables": {
    "model_sources": [
      "src/kernel/srcu.c",
      "src/kernel/xarray.c",
      "src/kernel/task.c",
      "src/kernel/workqueue.c",
      "src/kernel/file.c",
      "src/model/world.c",
      "src/model/design.c",
      "src/model/api.c",
      "src/model/stress.c"
    ],
    "design_sources": ["<!@(ls src/designs/*.c)"],
    "kernel_lane_sources": ["src/ring.c", "src/probe.c", "src/standins.c", "src/pool.c", "src/threads.c"],
    "c_flags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"]
  },
  "target_defaults": {
    "cflags": ["<@(c_flags)"],
    "cflags_c": ["-std=gnu11"],
    "libraries": ["-lpthread"]
  },
  "targets": [
    {
      "target_name": "iou_native",
      "sources": [
        "src/addon.cc",
        "src/addon_designs.cc",
        "src/addon_bpf.cc",
        "src/bpf_standins.c",
        "src/struct_ops.c",
        "src/seccomp.c",
        "src/model/lane.c",
        "src/model/regbench.c",
        "<@(kernel_lane_sources)",
        "<@(model_sources)",
        "<@(design_sources)"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17"]
    },
    {
      "target_name": "iou-standins",
      "type": "executable",
      "sources": ["src/standalone.c", "<@(kernel_lane_sources)"]
    },
    {
      "target_name": "iou-stress",
      "type": "executable",
      "sources": ["src/stress_main.c", "<@(model_sources)", "<@(design_sources)"]
    }
  ]
}
