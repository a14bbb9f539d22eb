package rds

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxIdentifierLength bounds DB instance identifiers.
const MaxIdentifierLength = 63

const identifierRules = "Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens."

// validIdentifier reports whether id follows RDS's identifier rules.
func validIdentifier(id string) bool {
	if id == "" || len(id) > MaxIdentifierLength || !isLetter(id[0]) || id[len(id)-1] == '-' || strings.Contains(id, "--") {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !isLetter(c) && !(c >= '0' && c <= '9') && c != '-' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// checkIdentifier validates the identifier parameter name carries.
func checkIdentifier(param, id string) error {
	if id == "" {
		return Errorf(CodeMissingParameter, "The request must contain the parameter %s.", param)
	}
	if len(id) > MaxIdentifierLength && validIdentifier(id[:MaxIdentifierLength]) {
		return Errorf(CodeInvalidParameterValue, "The parameter %s is not a valid identifier because it is longer than %d characters.", param, MaxIdentifierLength)
	}
	if !validIdentifier(id) {
		return Errorf(CodeInvalidParameterValue, "The parameter %s is not a valid identifier. %s", param, identifierRules)
	}
	return nil
}

// InstanceARN is the ARN of a DB instance.
func InstanceARN(sc Scope, id string) string {
	return "arn:" + Partition(sc.Region) + ":rds:" + sc.Region + ":" + sc.Account + ":db:" + id
}

// instanceID resolves an identifier or an ARN of the scope to a lowercase
// identifier; ok is false for an ARN of another scope or resource type.
func instanceID(sc Scope, s string) (id string, ok bool, err error) {
	if strings.HasPrefix(s, "arn:") {
		p := strings.SplitN(s, ":", 7)
		if len(p) != 7 || p[2] != "rds" || p[5] != "db" || !validIdentifier(p[6]) {
			return "", false, Errorf(CodeInvalidParameterValue, "The parameter DBInstanceIdentifier is not a valid identifier. %s", identifierRules)
		}
		if p[3] != sc.Region || p[4] != sc.Account || p[1] != Partition(sc.Region) {
			return strings.ToLower(p[6]), false, nil
		}
		return strings.ToLower(p[6]), true, nil
	}
	if err := checkIdentifier("DBInstanceIdentifier", s); err != nil {
		return "", false, err
	}
	return strings.ToLower(s), true, nil
}

func hash(parts ...string) [32]byte { return sha256.Sum256([]byte(strings.Join(parts, "\x00"))) }

const lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"

// endpointToken is the 12-character token of a scope's endpoints; RDS's
// observed tokens start with "c".
func endpointToken(sc Scope) string {
	h := hash("endpoint", sc.Account, sc.Region)
	b := []byte{'c'}
	for i := 0; len(b) < 12; i++ {
		b = append(b, lowerAlnum[int(h[i])%len(lowerAlnum)])
	}
	return string(b)
}

// hostedZones are the Route 53 zones RDS uses, where known.
var hostedZones = map[string]string{
	"us-east-1": "Z2R2ITUGPM61AM",
	"us-west-2": "Z1PVIF0B656C1W",
	"eu-west-1": "Z29XKXDKYMONMX",
}

func hostedZoneID(region string) string {
	if z, ok := hostedZones[region]; ok {
		return z
	}
	const upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	h := hash("zone", region)
	b := []byte{'Z'}
	for i := 0; len(b) < 14; i++ {
		b = append(b, upperAlnum[int(h[i])%len(upperAlnum)])
	}
	return string(b)
}

func endpointFor(sc Scope, in *Instance) *Endpoint {
	domain := ".rds.amazonaws.com"
	if Partition(sc.Region) == "aws-cn" {
		domain = ".rds.amazonaws.com.cn"
	}
	return &Endpoint{
		Address:      in.Identifier + "." + endpointToken(sc) + "." + sc.Region + domain,
		Port:         in.Port,
		HostedZoneID: hostedZoneID(sc.Region),
	}
}

// newResourceID returns a DbiResourceId: db- and 26 base32 characters.
func newResourceID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "db-" + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])[:26]
}

// availabilityZone picks one of the region's first three zones by id.
func availabilityZone(sc Scope, id string) string {
	h := hash("az", sc.Account, sc.Region, id)
	return sc.Region + string(rune('a'+int(h[0])%3))
}

// Maintenance windows.

var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// windowBlocks are the regions' 8-hour blocks (start hour, UTC) in which
// RDS picks default maintenance windows; other regions use 03:00.
var windowBlocks = map[string]int{
	"us-east-1": 3, "us-east-2": 3, "us-west-2": 6, "eu-west-1": 22, "eu-central-1": 21, "ap-northeast-1": 13,
}

// MinWindow is the shortest maintenance window.
const MinWindow = 30 * time.Minute

const week = 7 * 24 * time.Hour

// defaultWindow returns a 30-minute window on a day and at a time picked
// from the instance's identity, inside the region's block.
func defaultWindow(sc Scope, id string) string {
	h := hash("window", sc.Account, sc.Region, id)
	v := binary.BigEndian.Uint32(h[:4])
	startHour, ok := windowBlocks[sc.Region]
	if !ok {
		startHour = 3
	}
	day := int(v % 7)
	offset := time.Duration(v/7%(8*60-30)) * time.Minute
	start := time.Duration(day)*24*time.Hour + time.Duration(startHour)*time.Hour + offset
	return formatWindow(start, start+MinWindow)
}

// formatWindow writes offsets from Sunday 00:00 as ddd:hh24:mi-ddd:hh24:mi.
func formatWindow(start, end time.Duration) string {
	f := func(d time.Duration) string {
		d = (d%week + week) % week
		day := int(d / (24 * time.Hour))
		d -= time.Duration(day) * 24 * time.Hour
		return fmt.Sprintf("%s:%02d:%02d", weekdays[day], int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return f(start) + "-" + f(end)
}

// parseWindow returns the window's start and length; end before start
// wraps around the week.
func parseWindow(w string) (start, length time.Duration, err error) {
	bad := Errorf(CodeInvalidParameterValue, "The parameter PreferredMaintenanceWindow is not valid: %s. It must be in the format ddd:hh24:mi-ddd:hh24:mi (UTC) and at least 30 minutes long.", w)
	a, b, ok := strings.Cut(strings.ToLower(w), "-")
	if !ok {
		return 0, 0, bad
	}
	pa, okA := parseWeekTime(a)
	pb, okB := parseWeekTime(b)
	if !okA || !okB {
		return 0, 0, bad
	}
	length = ((pb-pa)%week + week) % week
	if length < MinWindow {
		return 0, 0, bad
	}
	return pa, length, nil
}

func parseWeekTime(s string) (time.Duration, bool) {
	p := strings.Split(s, ":")
	if len(p) != 3 || len(p[1]) != 2 || len(p[2]) != 2 {
		return 0, false
	}
	day := -1
	for i, d := range weekdays {
		if p[0] == d {
			day = i
		}
	}
	h, err1 := strconv.Atoi(p[1])
	m, err2 := strconv.Atoi(p[2])
	if day < 0 || err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 {
		return 0, false
	}
	return time.Duration(day)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, true
}

// nextWindowStart is the first start of window strictly after t.
func nextWindowStart(window string, t time.Time) time.Time {
	start, _, err := parseWindow(window)
	if err != nil {
		start, _, _ = parseWindow(defaultWindow(Scope{}, ""))
	}
	t = t.UTC()
	sunday := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -int(t.Weekday()))
	next := sunday.Add(start)
	for !next.After(t) {
		next = next.Add(week)
	}
	return next
}
