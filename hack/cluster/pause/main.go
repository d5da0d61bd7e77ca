// Command pause is the pod sandbox's process for hack/cluster.sh's node: it sleeps until
// SIGINT or SIGTERM and reaps zombies, a stand-in for registry.k8s.io/pause, which this
// machine cannot pull.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range sigs {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		reap()
	}
}

// reap collects every exited child: the sandbox is PID 1 of a shared PID namespace.
func reap() {
	for {
		pid, _ := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
		if pid <= 0 {
			return
		}
	}
}
