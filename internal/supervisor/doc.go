// Package supervisor runs one user application process for one region and
// keeps it running: the apps of a topology's `apps:` section, written in any
// language, each started once per region beside that region's DynamoDB
// endpoint.
//
// # What a Supervisor does
//
// Start runs the command in a process group of its own, with a minimal
// environment inherited from Gyre (see Options.Env) plus the variables the
// caller gives. Every line the app writes to stdout or stderr is logged at
// info level with the attributes app, region and stream. When the process
// exits, for whatever reason and with whatever code, it is restarted after a
// backoff that doubles from MinBackoff to MaxBackoff while runs keep
// failing, and returns to MinBackoff after a run that lasted StableAfter.
// Whatever else is left of the process group when the main process exits
// is stopped first, as Shutdown stops it, so that a restart never competes
// with the previous run's children for a port.
//
// Shutdown sends SIGTERM to the whole group, SIGKILL after StopGrace, and
// returns once the process has been reaped. The processes of the group
// that outlive the main process get the rest of the grace period: an app
// a shell runs without exec (dash, Debian's /bin/sh, does not exec the
// last command of sh -c) shuts down as gracefully as one run directly.
//
// # What the caller does, in order
//
//  1. Build the Options per app and region: the command as argv (a topology
//     string becomes []string{"/bin/sh", "-c", cmd}), and in Env the app's
//     configuration (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB, credentials,
//     TABLE_NAME, PORT and so on).
//  2. New, then Start. An error from Start means the command can never
//     start as given (the program does not exist, is not executable, the
//     working directory is missing); it says what to fix. Any other failure
//     is logged and retried in the background.
//  3. Read Status for dashboards and health reports.
//  4. At the end, Shutdown.
//
// # Operating systems
//
// Supervisors run on Unix systems; elsewhere New returns an error. On
// Linux, the app's main process gets SIGKILL if Gyre dies (Pdeathsig);
// its children do not, so a command run through a shell should start
// with exec for the app itself to be the main process. The first Start
// makes the Gyre process a child subreaper (PR_SET_CHILD_SUBREAPER), so
// that the processes an app leaves behind are reparented to Gyre, which
// reaps them, instead of to init: Shutdown then returns only when no
// process of the app's group remains, even where init does not reap
// orphans. A side effect is that orphans of other programs Gyre runs
// become Gyre's children too, and stay zombies. On other systems, what
// remains of the group once the main process has exited is killed at
// once. Processes that leave the app's group (setsid, setpgid) are not
// the supervisor's to stop.
package supervisor
