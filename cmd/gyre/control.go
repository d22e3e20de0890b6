package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gyre-dev/gyre/internal/control"
)

func newControlCmd() *cobra.Command {
	var f adminFlags
	cmd := &cobra.Command{
		Use:   "control",
		Short: "Show and flip the routing controls that take regions in and out of service",
		Long: `Show and flip the routing controls: on/off switches, one per region and
optionally more, that DNS and the front door obey at once. Their state is
held by a Raft group with one member per region, so any region can take a
change while a minority of regions is down. Safety rules (at least N
controls on; gates that must be open before their targets change) refuse
changes that would break them, unless overridden with a reason.`,
	}
	f.register(cmd.PersistentFlags())

	var history int
	list := &cobra.Command{
		Use:   "list",
		Short: "Show every control, the safety rules, the Raft leader and the recent changes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			targets, token, err := f.targets()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 15*time.Second)
			defer cancel()
			st, err := controlState(ctx, targets, token)
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(st)
			}
			printControls(st, history)
			return nil
		},
	}
	list.Flags().IntVar(&history, "history", 10, "how many recent changes to show")

	var override bool
	var reason string
	set := &cobra.Command{
		Use:   "set CONTROL on|off [CONTROL on|off ...] [--override --reason TEXT]",
		Short: "Turn controls on or off, all at once or none",
		Example: `  gyre control set us-east-1 off
  gyre control set us-east-1 off eu-west-1 on
  gyre control set us-west-2 off --override --reason "drill: evacuate us-west-2"`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 || len(args)%2 != 0 {
				return fmt.Errorf("want pairs of CONTROL on|off, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			changes := map[string]bool{}
			for i := 0; i < len(args); i += 2 {
				on, err := parseOnOff(args[i+1])
				if err != nil {
					return fmt.Errorf("%s: %w", args[i], err)
				}
				if prev, ok := changes[args[i]]; ok && prev != on {
					return fmt.Errorf("%s is set both on and off", args[i])
				}
				changes[args[i]] = on
			}
			switch {
			case override && strings.TrimSpace(reason) == "":
				return fmt.Errorf("--override needs --reason: it is kept in the history")
			case !override && reason != "":
				return fmt.Errorf("--reason goes with --override")
			}
			targets, token, err := f.targets()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			req := control.SetRequest{Changes: changes, Override: override, Reason: reason, Origin: cliOrigin()}
			st, err := controlSet(ctx, targets, token, req)
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(st)
			}
			printControls(st, 1)
			return nil
		},
	}
	set.Flags().BoolVar(&override, "override", false, "bypass the safety rules (needs --reason)")
	set.Flags().StringVar(&reason, "reason", "", "why the rules are overridden; kept in the history")

	cmd.AddCommand(list, set)
	return cmd
}

// parseOnOff reads a control's value.
func parseOnOff(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "on", "true":
		return true, nil
	case "off", "false":
		return false, nil
	}
	return false, fmt.Errorf("%q is neither on nor off", s)
}

// cliOrigin says who asks, for the panel's history.
func cliOrigin() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("%s@%s (gyre control)", name, host)
}

// controlState asks each region in turn for the panel's state. It prefers
// a region that knows a leader: one cut off from the majority may show a
// stale state.
func controlState(ctx context.Context, targets []target, token string) (*control.State, error) {
	var stale *control.State
	var errs []error
	for _, t := range targets {
		var st control.State
		if err := adminGet(ctx, t, token, "/controls", &st); err != nil {
			errs = append(errs, err)
			continue
		}
		if st.Leader != "" {
			return &st, nil
		}
		if stale == nil {
			stale = &st
		}
	}
	if stale != nil {
		fmt.Fprintf(os.Stderr, "gyre: warning: no region that answered knows a Raft leader (is a majority down?); showing %s's last known state\n", stale.Node)
		return stale, nil
	}
	return nil, fmt.Errorf("no region answered: %w", errors.Join(errs...))
}

// controlSet sends the change to each region in turn until one takes it.
// A refusal (bad input, a safety rule) ends the attempt: every region
// would refuse it alike. A region that cannot reach a majority (503) or
// cannot be reached is skipped.
func controlSet(ctx context.Context, targets []target, token string, req control.SetRequest) (*control.State, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, t := range targets {
		st, err := controlPost(ctx, t, token, body)
		if err == nil {
			return st, nil
		}
		var ae *controlAPIError
		if errors.As(err, &ae) && ae.status != http.StatusServiceUnavailable && ae.status != http.StatusUnauthorized {
			return nil, err
		}
		fmt.Fprintf(os.Stderr, "gyre: %v; trying the next region\n", err)
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("no region took the change: %w", errors.Join(errs...))
}

// controlAPIError is an error answer of a region's /controls.
type controlAPIError struct {
	region string
	status int
	body   control.ErrorBody
}

func (e *controlAPIError) Error() string {
	if e.body.Error == "" {
		return fmt.Sprintf("%s: %d %s", e.region, e.status, http.StatusText(e.status))
	}
	return fmt.Sprintf("%s: %s", e.region, e.body.Error)
}

// controlPost posts a SetRequest to a region's /controls.
func controlPost(ctx context.Context, t target, token string, body []byte) (*control.State, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url+"/controls", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := adminClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.region, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.region, err)
	}
	if resp.StatusCode != http.StatusOK {
		ae := &controlAPIError{region: t.region, status: resp.StatusCode}
		if json.Unmarshal(data, &ae.body) != nil {
			ae.body.Error = strings.TrimSpace(string(data))
		}
		return nil, ae
	}
	var st control.State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%s: decoding the answer: %w", t.region, err)
	}
	return &st, nil
}

// printControls prints a panel's state and its latest history entries.
func printControls(st *control.State, history int) {
	leader := st.Leader
	if leader == "" {
		leader = "none known"
	}
	fmt.Printf("panel %s   leader %s   term %d   applied index %d   (as %s sees it)\n\n", st.Panel, leader, st.Term, st.AppliedIndex, st.Node)

	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "CONTROL\tSTATE\tCHANGED")
	for _, c := range st.Controls {
		changed := "-"
		if !c.ChangedAt.IsZero() {
			changed = c.ChangedAt.Local().Format(time.DateTime)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", c.Name, onOff(c.On), changed)
	}
	w.Flush()

	if len(st.Rules) > 0 {
		fmt.Println()
		w = tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "RULE\tTYPE\tREQUIRES")
		for _, r := range st.Rules {
			var req string
			if r.Type == control.Gating {
				req = fmt.Sprintf("%s change only while at least %d of %s on", strings.Join(r.Targets, ", "), r.AtLeast, strings.Join(r.Controls, ", "))
			} else {
				req = fmt.Sprintf("at least %d of %s on", r.AtLeast, strings.Join(r.Controls, ", "))
			}
			fmt.Fprintf(w, "%s\t%s\t%s\n", r.Name, r.Type, req)
		}
		w.Flush()
	}

	h := st.History
	if history <= 0 || len(h) == 0 {
		return
	}
	h = h[max(0, len(h)-history):]
	fmt.Println()
	w = tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TIME\tINDEX\tCHANGES\tBY\tVIA\tOVERRIDE")
	for _, c := range h {
		var changes []string
		for _, cc := range c.Controls {
			changes = append(changes, fmt.Sprintf("%s %s->%s", cc.Control, onOff(cc.From), onOff(cc.To)))
		}
		ov := "-"
		if c.Override {
			ov = fmt.Sprintf("%q", c.Reason)
			if len(c.Bypassed) > 0 {
				ov += " bypassing " + strings.Join(c.Bypassed, ", ")
			}
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", c.Time.Local().Format(time.DateTime), c.Index, strings.Join(changes, ", "), c.Origin, c.Node, ov)
	}
	w.Flush()
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}
