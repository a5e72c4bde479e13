#!/usr/bin/perl
# Comparison peer for the benchmark (test/bench, `npm run bench`): NOT shipped, not part of failover-agi.
#
# A FastAGI failover server written the way the VICIdial world writes them (cf. FastAGI_log.pl): Net::Server::PreFork
# with Asterisk::AGI, one forked child per call in progress. It does the bench's flow: EXEC Dial the primary, read
# DIALSTATUS and HANGUPCAUSE with GET VARIABLE, and on CHANUNAVAIL or CONGESTION Dial the secondary.
#
# Net::Server::PreFork's default pool sizes are kept on purpose, since that is what such servers run with:
#   min_servers 5, min_spare_servers 2, max_spare_servers 10, max_servers 50, max_requests 1000,
#   serialize flock, listen backlog Socket::SOMAXCONN.
# So at most 50 calls are served at once; more wait in the listen backlog.
#
# Usage: perl failover-agi.pl PORT
package FailoverAgiPeer;

use strict;
use warnings;
use base 'Net::Server::PreFork';
use Asterisk::AGI;

my $port = shift @ARGV or die "usage: $0 PORT\n";

sub process_request {
    my $self = shift;
    $| = 1;
    my $AGI = Asterisk::AGI->new;
    my %input = $AGI->ReadParse();
    my $number = $input{'arg_1'} // '';
    my @carriers = ("SIP/$number\@carrier-primary,30^5,tT", "PJSIP/$number\@carrier-b,60^5,tT");
    my ($status, $cause, $attempts) = ('', '', 0);
    foreach my $dial (@carriers) {
        $attempts++;
        $AGI->exec('Dial', $dial);
        $status = $AGI->get_variable('DIALSTATUS') // '';
        $cause = $AGI->get_variable('HANGUPCAUSE') // '';
        last unless $status eq 'CHANUNAVAIL' || $status eq 'CONGESTION';
    }
    $AGI->set_variable('FAILOVER_STATUS', $status);
    $AGI->set_variable('FAILOVER_ATTEMPTS', $attempts);
}

FailoverAgiPeer->run(port => $port, host => '127.0.0.1', ipv => 4, log_level => 1);
