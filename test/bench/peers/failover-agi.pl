#!/usr/bin/perl
# Comparison peer for the benchmark (test/bench, `npm run bench`): NOT shipped, not part of failover-agi.
#
# A FastAGI failover server written the way the VICIdial world writes them (cf. VICIdial's FastAGI_log.pl):
# Net::Server::PreFork with Asterisk::AGI, one preforked process per call in progress. Its pool is VICIdial's:
# max_servers 16 (min_servers 16, max_spare_servers 15: PreFork wants it below max_servers), so at most 16 calls are served at once and the rest wait in the
# listen backlog, as they do on a VICIdial box.
#
# It does the daemon's flow with the daemon's commands (the bench's fidelity section compares them each run):
# read the inherited cause and leg keys, mark the call DIALING, then for each carrier: clear the leg causes when
# the channel holds some, EXEC Dial, read DIALSTATUS, HANGUPCAUSE, the timings and the leg keys in one GET FULL
# VARIABLE (a lone leg's cause in the same read where the arming read showed func_logic, else each leg's by key),
# and try the next carrier on CHANUNAVAIL or CONGESTION; finally set the five result variables (by SET() in one GET
# FULL VARIABLE where func_logic is there). Asterisk::AGI's get_full_variable() adds a space after the expression
# (it appends an empty channel argument); Asterisk ignores it, and the fidelity check compares commands with
# trailing spaces trimmed.
#
# Usage: perl failover-agi.pl PORT
package FailoverAgiPeer;

use strict;
use warnings;
use base 'Net::Server::PreFork';
use Asterisk::AGI;

my $port = shift @ARGV or die "usage: $0 PORT\n";

my @carriers = (
    { name => 'primary',   dial => 'SIP/%s@carrier-primary,30^5,T' },
    { name => 'secondary', dial => 'PJSIP/%s@carrier-b,60^5,T' },
);

sub process_request {
    my $self = shift;
    $| = 1;
    my $AGI = Asterisk::AGI->new;
    my %input = $AGI->ReadParse();
    my $number = $input{'arg_1'} // '';
    # the daemon's arming read: the cause and keys a first run left, and FAILOVER_STATUS set by SET() in the same round trip
    my $inherited = $AGI->get_full_variable('"${HANGUPCAUSE}|${SET(FAILOVER_STATUS=DIALING)}|${HANGUPCAUSE_KEYS()}"') // '';
    my (undef, $armed, $keys) = split /\|/, $inherited, 3;
    $keys //= '';
    my $setworks = ($armed // '') eq 'DIALING';
    $AGI->set_variable('FAILOVER_STATUS', 'DIALING') unless $setworks;
    my ($status, $cause, $carrier, $attempts) = ('', '', '', 0);
    foreach my $c (@carriers) {
        $attempts++;
        # a Dial's leg keys stay on the channel: clear them, so the next read names only this Dial's legs
        $AGI->exec('HangupCauseClear', '""') if $keys ne '';
        $AGI->exec('Dial', sprintf($c->{dial}, $number));
        # with func_logic (the arm's SET() answered), IF() folds a lone leg's ast and tech into the same read
        my $expr = '${DIALSTATUS}|${HANGUPCAUSE}|${RINGTIME_MS}|${PROGRESSTIME_MS}|${ANSWEREDTIME_MS}|${HANGUPCAUSE_KEYS()}';
        $expr .= join('', map { '|${${IF($[\"${HANGUPCAUSE_KEYS()}\" =~ \"^[^,]+$\"]?HANGUPCAUSE(${HANGUPCAUSE_KEYS()},' . $_ . '):FAILOVER_NO_LEG)}}' } ('ast', 'tech')) if $setworks;
        my $outcome = $AGI->get_full_variable('"' . $expr . '"') // '';
        my @f = split /\|/, $outcome, -1;
        ($status, $cause, $keys) = ($f[0] // '', $f[1] // '', $f[5] // '');
        my @legs = grep { $_ ne '' } split /,/, $keys;
        next_leg: {
            last next_leg if $setworks && @legs == 1 && ($f[6] // '') ne '' && join('|', @f[7 .. $#f]) ne '';
            foreach my $leg (@legs) {
                $AGI->get_full_variable("\"\${HANGUPCAUSE($leg,ast)}|\${HANGUPCAUSE($leg,tech)}\"");
            }
        }
        $carrier = $c->{name};
        last unless $status eq 'CHANUNAVAIL' || $status eq 'CONGESTION';
    }
    my @result = (['FAILOVER_STATUS', $status], ['FAILOVER_CARRIER', $carrier], ['FAILOVER_ATTEMPTS', $attempts], ['FAILOVER_CAUSE', $cause], ['DIALSTATUS', $status]);
    # the arm showed SET() works: all five in one GET FULL VARIABLE, checked against the values; else one SET VARIABLE each
    if ($setworks) {
        my $got = $AGI->get_full_variable('"' . join('|', map { "\${SET($_->[0]=$_->[1])}" } @result) . '"') // '';
        return if $got eq join('|', map { $_->[1] } @result);
    }
    $AGI->set_variable($_->[0], $_->[1]) foreach @result;
}

FailoverAgiPeer->run(
    port => $port, host => '127.0.0.1', ipv => 4, log_level => 1,
    min_servers => 16, max_servers => 16, min_spare_servers => 2, max_spare_servers => 15,
);
