// Generated from config/tenant.schema.json by `npm run tutti -- config types`; do not edit by hand.

/**
 * Configuration of one conservatoire (tenant), stored as tenants/<slug>.yaml and editable in the
 * back-office. It sets the identity of the portal (name, hosts, establishments, colours, contact), the
 * pré-inscription and réinscription windows, the re-enrolment wizard, the texts shown to families, the
 * documents to provide (pièces à fournir) and the rules that decide who must provide them, payment
 * modes, quotient familial brackets and the password policy. Every key is optional unless marked
 * required; omitted keys take the documented default. This is the shape of a tenant file once
 * validated: a key with a default in the schema is always present, the validator fills it in.
 */
export interface TenantConfig {
  /**
   * Technical identifier of the tenant. It must equal the file name (limonest.yaml → slug: limonest),
   * names the database schema (tenant_limonest) and the default address (limonest.<platform domain>).
   * Lowercase letters, digits and hyphens, 2 to 40 characters, starting with a letter. Never change it
   * once the tenant holds data.
   */
  slug: string
  /**
   * Public name of the conservatoire, shown in page titles, e-mails and the site selector. Example:
   * "Conservatoire Municipal de Limonest".
   */
  name: string
  /**
   * Shorter name used where space is tight (page header on phones, e-mail subjects). Defaults to name.
   * Example: "Conservatoire de Limonest".
   */
  shortName?: string
  /**
   * Default language of the portal for this tenant: fr (French) or en (English). Families may still
   * switch language if the page offers it.
   */
  locale: 'fr' | 'en'
  /**
   * IANA time zone in which dates and times of this tenant are entered and displayed (opening and
   * closing of periods, e-mail dates). Example: "Europe/Paris", "America/Cayenne", "Indian/Reunion".
   */
  timezone: string
  /**
   * Extra host names (custom domains) that lead to this tenant, in addition to <slug>.<platform domain>.
   * The first one is the canonical host: links in e-mails point to it (without hosts, to
   * <slug>.<platform domain>). Lowercase, no scheme, no port, no path. Each host may belong to one
   * tenant only. Example: ["conservatoire.limonest.fr"].
   */
  hosts: string[]
  /** Visual identity of the portal: logo and colours. */
  brand?: {
    /**
     * Logo shown in the page header and e-mails: either a file path relative to templates/assets (e.g.
     * "logos/limonest.svg") or an https URL. SVG, PNG, JPEG or WebP. Without a logo, the name is shown as
     * text.
     */
    logo?: string
    /**
     * Main colour (header, buttons) as #RRGGBB. Choose a colour on which white text stays readable
     * (contrast ratio 4.5:1 or more). Example: "#1d4f91".
     */
    primaryColor?: Color
    /** Secondary colour (links, highlights) as #RRGGBB. Example: "#c0392b". */
    accentColor?: Color
  }
  /**
   * How families reach the conservatoire's office. Shown in the footer, on error pages and in e-mails
   * (the e-mail is used as Reply-To).
   */
  contact: {
    /** Office e-mail address. Example: "conservatoire@limonest.fr". */
    email: string
    /** Office phone number as it should be displayed. Example: "04 78 00 00 00". */
    phone?: string
    /** Postal address of the office, several lines allowed. */
    address?: string
    /**
     * Public website of the conservatoire. Example:
     * "https://www.limonest.fr/agora-culture/conservatoire-municipal/".
     */
    website?: string
  }
  /**
   * Sites (antennes) of the conservatoire where courses take place. At least one. When there is more
   * than one, the login form shows a "Site" field and courses are attached to a site.
   */
  establishments: Establishment[]
  /**
   * Opening windows of the online procedures. A procedure without a window is closed. Bounds are in the
   * tenant's time zone; a closing date without a time means 23:59 that day, an opening date without a
   * time means 00:00. The closing moment is shown to families ("Jusqu'au 11/06/2025 à 23:59") and
   * enforced on the server.
   */
  periods?: {
    /** Window of the public pré-inscription form. Example: {opens: "2025-04-01", closes: "2025-05-30"}. */
    preregistration?: PeriodBounds
    /**
     * Window of the réinscription of current pupils for the next school year. Example: {opens:
     * "2025-05-15", closes: "2025-06-11", schoolYear: "2025-2026"}.
     */
    reenrolment?: ReenrolmentPeriod
  }
  /**
   * The school calendar lessons follow. Lessons are drawn from each course's weekly slots between the
   * school year's first and last day, skipping French public holidays (computed) and the school holidays
   * listed here. When omitted, only public holidays are skipped.
   */
  calendar?: {
    /**
     * The tenant's school holiday zone (A, B or C; Corse and the overseas académies have their own
     * calendar), shown to staff beside the holidays. Example: A.
     */
    zone?: 'A' | 'B' | 'C' | 'Corse' | 'Outre-mer'
    /**
     * The school holidays of the zone, first day to last day inclusive (from the official calendar of the
     * Éducation nationale: a holiday from Saturday 17 October to Monday 2 November means lessons resume on
     * Monday 2 November, so write the Sunday as its last day). Example: [{label: "Vacances de la
     * Toussaint", from: "2026-10-17", to: "2026-11-01"}].
     */
    holidays?: {
      /** Shown to teachers and families. Example: "Vacances de Noël". */
      label: string
      /** First day without lessons (YYYY-MM-DD). */
      from: string
      /** Last day without lessons (YYYY-MM-DD). */
      to: string
    }[]
  }
  /**
   * The class register. When omitted: families are mailed on the day of an unexcused absence, and
   * teachers see the guardians' phone numbers and e-mail addresses.
   */
  attendance: {
    /**
     * Mail the family's guardians when a teacher records an unexcused absence, the same day. Example:
     * true.
     */
    absenceMail: boolean
    /**
     * How teachers may reach a pupil's family from their roster: the guardians' phone numbers and e-mail
     * addresses, their e-mail addresses only, or none (the secretariat passes messages on). Example:
     * phone-and-email.
     */
    teacherContacts: 'phone-and-email' | 'email' | 'none'
  }
  /**
   * The teachers' evaluations: the periods they write one per pupil and course for, and the scale they
   * use. A free appreciation is always written; levels and criteria are optional. When omitted: three
   * terms (1 September – 31 December, 1 January – 31 March, 1 April – 31 August) and the free
   * appreciation only.
   */
  evaluations: {
    /**
     * The evaluation periods of every school year (terms or semesters), in order, as month-day so they
     * hold every year: September to December fall in the school year's first calendar year, January to
     * August in its second. Example: [{code: T1, label: "1er trimestre", from: "09-01", to: "12-31"}].
     */
    periods: {
      /**
       * The period's code in addresses and files, never shown alone; keep it once evaluations were written
       * for it. Example: T1.
       */
      code: string
      /** Shown to teachers, families and on the bulletin. Example: "1er trimestre". */
      label: string
      /** First day of the period, as MM-DD. Example: "09-01". */
      from: string
      /** Last day of the period, as MM-DD. Example: "12-31". */
      to: string
    }[]
    /**
     * What the teacher gives besides the free appreciation, which is always written. When omitted: the
     * appreciation only.
     */
    scale: {
      /**
       * Optional overall levels the teacher picks one of, best first. Example: ["Très bien", "Bien", "Assez
       * bien", "À consolider"].
       */
      levels?: string[]
      /**
       * Optional criteria the teacher rates each as acquis, en cours d'acquisition or non acquis. Example:
       * ["Justesse", "Rythme", "Lecture"].
       */
      criteria?: string[]
    }
  }
  /**
   * Seats in next year's offer: the priority rules that order the requests for a course when there are
   * more requests than seats, in order, and how long families have to answer a seat offered. When
   * omitted: continuing pupils first, then the date of the request, and 7 days to answer.
   */
  places: {
    /**
     * The priority rules, most important first; equal requests go on to the next rule. continuing: pupils
     * who follow the course's discipline this year; resident: families living on the territory (the
     * family's Résident flag staff validate, which the tariffs read too; for a pré-inscription,
     * responsable 1's postal code among residents.postalCodes); sibling: families with another pupil
     * enrolled this year; reenrolment: pupils re-enrolling before pré-inscriptions; requestDate: the
     * earlier request first; draw: a draw whose seed is recorded and shown. Where the list ends with
     * neither requestDate nor draw, the date of the request decides last. Example: [continuing, resident,
     * sibling, draw].
     */
    rules: ('continuing' | 'resident' | 'sibling' | 'reenrolment' | 'requestDate' | 'draw')[]
    /**
     * Who counts as a resident for the resident rule in a pré-inscription, whose family does not exist
     * yet: the postal codes of responsable 1's address. Example: {postalCodes: ["69760"]}.
     */
    residents?: {
      /** The postal codes of the territory. Example: ["69760"]. */
      postalCodes?: string[]
    }
    /**
     * Days a family has to accept or decline a seat offered, counted from the offer; past them the seat
     * goes to the next request. Example: 7.
     */
    answerDays: number
  }
  /**
   * Which identity fields families must fill in (marked as mandatory in the forms, checked on the
   * server). Fields not listed stay optional.
   */
  fields: {
    /**
     * Mandatory fields of a responsable (guardian). Example: [civility, lastName, firstName, address,
     * postalCode, city, email, phoneMobile].
     */
    guardian: GuardianField[]
    /**
     * Mandatory fields of a pupil (élève). Example: [civility, lastName, firstName, birthDate,
     * schoolLevel, imageRights, exitAuthorization].
     */
    pupil: PupilField[]
  }
  /**
   * Texts written by the conservatoire and shown to families. Plain text; blank lines separate
   * paragraphs, lines starting with "- " become bullet lists, URLs become links.
   */
  texts?: {
    /**
     * Introduction shown on the family portal home page, under "Bonjour …". Example: what the portal lets
     * families do and who to contact.
     */
    home?: string
    /**
     * Text of the droit à l'image authorisation, shown next to the Oui/Non choice in the pupil's identity
     * and in the re-enrolment Autorisations step.
     */
    imageRights?: string
    /**
     * Text of the autorisation de sortie (a minor pupil may leave the building alone), shown next to the
     * Oui/Non choice. Example: "En cochant oui, j'autorise l'élève mineur à quitter seul-e l'enceinte du
     * Conservatoire."
     */
    exitAuthorization?: string
    /**
     * Link to the règlement intérieur (usually a PDF), offered with the "J'accepte" box when a
     * re-enrolment is validated. Example: "https://www.example.fr/reglement-interieur.pdf".
     */
    rulesUrl?: string
    /**
     * Sentence next to the "J'accepte" box that families must tick before validating a re-enrolment.
     * Example: "En cliquant sur J'accepte, je certifie avoir pris connaissance du règlement intérieur et
     * m'engage à le respecter."
     */
    rulesAcceptance?: string
    /**
     * Information about fees and payment (how the final price is set, quotient familial, prorata, accepted
     * means of payment), shown on the Facturation page and in the re-enrolment wizard.
     */
    paymentInfo?: string
    /**
     * Introduction shown above the list of pièces à fournir (Documents tab and re-enrolment Documents
     * step). The accepted formats and maximum size are added automatically. Example: "Merci de nous
     * fournir les pièces demandées. Tout dossier incomplet ne sera pas traité."
     */
    documentsIntro?: string
    /**
     * Accessibility declaration of this tenant (compliance status, contact for accessibility problems),
     * shown on the Accessibilité page. When omitted, the platform's generic declaration is shown.
     */
    accessibility?: string
  }
  /** The réinscription wizard that families go through for each pupil during the re-enrolment period. */
  reenrolment: {
    /**
     * Ordered steps of the wizard, each at most once, ending with finalize (the "J'accepte" + Valider
     * step). coordinates: check guardian and pupil details; authorizations: droit à l'image and
     * autorisation de sortie; documents: pièces à fournir; courses: courses to keep and course notes;
     * summary: review before validation; finalize: accept the rules and validate. Example (Limonest):
     * [coordinates, authorizations, documents, courses, summary, finalize].
     */
    steps: Step[]
    /**
     * How the steps are presented: wizard shows one step per page with "Passer à l'étape suivante" /
     * "Retour à l'étape précédente"; onePage shows all steps as sections of a single page with one Valider
     * button (Grand Angoulême style).
     */
    layout: 'wizard' | 'onePage'
    /**
     * Optional introduction shown at the top of each step, keyed by step. Example: {coordinates: "Pensez à
     * renseigner le niveau scolaire et l'établissement scolaire."}.
     */
    texts?: {
      /** Introduction of the coordinates step (Modification des coordonnées). */
      coordinates?: string
      /** Introduction of the authorizations step (Autorisations). */
      authorizations?: string
      /** Introduction of the documents step (Documents), shown in addition to texts.documentsIntro. */
      documents?: string
      /** Introduction of the courses step (Cours). */
      courses?: string
      /**
       * Introduction of the summary step (Récapitulatif). Example: "Merci de prendre connaissance des
       * modalités avant de valider."
       */
      summary?: string
      /** Introduction of the finalize step (Finalisation), above the "J'accepte" box. */
      finalize?: string
    }
    /**
     * Bullets shown under "Information complémentaire" in the courses step, above the free-text box where
     * families write their requests. Example: "Pour les élèves en FM1C4, merci de préciser votre
     * préférence pour l'horaire."
     */
    courseNotes?: string[]
    /**
     * Codes of disciplines (from disciplines) whose courses a pupil cannot drop in the courses step: the
     * box to keep them is ticked and locked. Example: [formation-musicale].
     */
    mandatoryDisciplines?: string[]
    /**
     * When set, the courses step shows a free-text box with this label where families ask for new
     * disciplines. Example: "Nouvelles disciplines demandées".
     */
    newDisciplinesQuestion?: string
    /**
     * Extra yes/no questions asked for each pupil in the courses step. The answer is available to document
     * conditions as the fact pupil.answers.<id>. Example: {id: pedibus, label: "Je souhaite faire une
     * demande de Pédibus"}.
     */
    questions?: Question[]
  }
  /**
   * Pièces à fournir: the documents families must upload, per family or per pupil, each optionally
   * limited by a condition (only for dance pupils, only for residents, only when paying by direct
   * debit…). Staff then validate or reject each upload.
   */
  documents?: RequiredDocument[]
  /**
   * Payment modes a family can choose ("mode de règlement souhaité"). The chosen mode's id is the fact
   * family.paymentMode used by document conditions (e.g. ask for a SEPA mandate only with direct debit).
   */
  paymentModes?: PaymentMode[]
  /**
   * The conservatoire as creditor of SEPA direct debits (prélèvements): what the monthly debit file
   * (pain.008) names as the creditor and the account credited. Without this key staff can record
   * mandates but cannot export a debit file.
   */
  sepa?: {
    /**
     * Creditor's name as the banks show it to debtors (70 characters at most). Defaults to name. Example:
     * "REGIE CONSERVATOIRE LIMONEST".
     */
    name?: string
    /**
     * Identifiant créancier SEPA (ICS) given by the bank: country, check digits, business code, national
     * identifier. Example: "FR12ZZZ123456".
     */
    creditorId: string
    /** IBAN of the account credited, without spaces. Example: "FR7630001007941234567890185". */
    iban: string
    /** BIC of the creditor's bank (8 or 11 characters). Example: "BDFEFRPPCCT". */
    bic: string
  }
  /**
   * Quotient familial (QF) brackets used to price the fees, and the bracket applied when no QF is
   * proven.
   */
  quotientFamilial?: {
    /**
     * Brackets in increasing order of QF. Each bracket except the last has a max (upper bound, in euros,
     * inclusive); the last one has none. Example: [{code: Q1, label: "QF jusqu'à 400 €", max: 400}, …,
     * {code: Q7, label: "QF supérieur à 2 000 € ou non justifié"}].
     */
    brackets: Bracket[]
    /**
     * Code of the bracket applied when the family does not prove its QF (or is not entitled to QF
     * pricing). Example: "Q7" (Limonest), "T11" (tranche 11, Grand Angoulême).
     */
    fallback: string
    /**
     * When true, QF pricing applies only to families living in the territory (family.resident); others
     * always get the fallback bracket. Example: true for "pour les limonois".
     */
    residentsOnly: boolean
  }
  /**
   * Tuition tariffs: categories priced by quotient familial bracket and residence, fixed fees, family
   * reductions, rentals, the instalment calendar and the proration of a start during the year (see
   * docs/decisions.md, "Tariffs"). Without this key the tenant has no tuition simulator.
   */
  tariffs?: {
    /**
     * Categories in the order they are tried: for each pupil, the first category whose disciplines match
     * applies and takes the disciplines it names; the next categories are tried on the disciplines left,
     * so a pupil in music and dance gets two lines. Example: cursus-complet (includesAll
     * [formation-musicale], includesAny [instruments]) before instrument-seul (includesAny [instruments]).
     */
    categories: TariffCategory[]
    /**
     * Fixed fees (adhésion, frais de dossier). Example: [{code: adhesion, label: Adhésion, amount: 15,
     * per: family}].
     */
    fees?: TariffFee[]
    /**
     * Reductions for families with several pupils, in percent of the tuition. Pupils are ranked by their
     * tuition, most expensive first: the reduction falls on the cheaper ones. Example: {secondPupil: 10,
     * thirdPupilAndMore: 20}.
     */
    familyReduction?: {
      /** Percent off the second pupil's tuition. Example: 10. */
      secondPupil?: number
      /** Percent off the tuition of the third pupil and each further one. Example: 20. */
      thirdPupilAndMore?: number
    }
    /**
     * Items for rent (instruments, rooms, equipment) with their yearly price and optional deposit; each
     * item lent is registered with its own reference on staff's Facturation → Locations page.
     */
    rentals?: Rental[]
    /**
     * When instalments fall due. A payment mode in n instalments uses the first n months of the list; a
     * mode without instalments pays once, on the first date. Example: {months: [11, 12, 1, 2, 3, 4, 5, 6,
     * 7], day: 5} for "9 prélèvements en début de mois à partir de novembre".
     */
    schedule: {
      /**
       * Months of the instalments, in the order of the school year (which starts in September). Example:
       * [11, 12, 1, 2, 3, 4, 5, 6, 7].
       */
      months: number[]
      /** Day of the month instalments fall due (1 to 28). Example: 5. */
      day: number
    }
    /**
     * How a start during the school year is charged: the yearly amount is split in equal shares, one per
     * month listed, and a share is charged when the pupil starts on or before that month's day. Without
     * this key a start during the year pays the whole year. Example: {months: [11, 12, 1, 2, 3, 4, 5, 6,
     * 7], day: 5} — "sur la base du paiement en 9 fois": only the instalments not yet due are charged.
     */
    proration?: {
      /**
       * Months sharing the yearly amount, in the order of the school year. Example: [9, 10, 11, 12, 1, 2, 3,
       * 4, 5, 6].
       */
      months: number[]
      /** A month's share is charged when the pupil starts on or before this day of it (1 to 28). Example: 5. */
      day: number
    }
  }
  /**
   * How families pay and how payments come back to the conservatoire, beyond the desk: online payment
   * through PayFiP and the payments the Trésor Public collects.
   */
  billing?: {
    /**
     * Online payment through PayFiP (DGFiP). With it, an unpaid invoice on a family's Facturation page
     * shows "Payer en ligne": Tutti sends the family to https://www.payfip.gouv.fr/tpa/paiement.web with
     * the invoice's reference (refdet) and what remains to pay; back from PayFiP the invoice shows
     * "Paiement en cours de confirmation" until staff import the treasury's statement
     * (/admin/facturation/tresor) or confirm the payment. Without this key there is no online payment.
     * Example: {clientNumber: "012345", mode: production}.
     */
    payfip?: Payfip
  }
  /**
   * Disciplines taught (instruments, formation musicale, ensembles, dance and theatre classes). Their
   * codes are used by document conditions (pupil.disciplines) and by the pré-inscription choices.
   */
  disciplines?: Discipline[]
  /**
   * Établissements scolaires of the territory, offered in the pupil's établissement scolaire field,
   * which families search as they type. They may also choose « Non scolarisé·e » or « Établissement
   * non-répertorié » (staff then get in touch). Without this list the field is free text. Example:
   * [École élémentaire du Bourg, Collège des Monts d'Or].
   */
  schools?: string[]
  /** The public pré-inscription form for new pupils (open during periods.preregistration). */
  preregistration?: {
    /**
     * Number of discipline choices each applicant gives, by order of priority (Choix 1, Choix 2…).
     * Example: 2 ("Veuillez sélectionner 2 choix par ordre de priorité").
     */
    choices: number
    /**
     * Codes of the disciplines offered in the choice lists. When omitted, every discipline of the tenant
     * is offered. Example: [piano, violon, formation-musicale].
     */
    disciplines?: string[]
    /**
     * Introduction block at the top of the form (procedure, key dates, who may apply). The closing date is
     * added automatically. Example: "Bienvenue sur le téléservice de pré-inscription du Conservatoire."
     */
    intro?: string
    /**
     * Label of a free-text box under each applicant's choices. Example: "Précisez ci-dessous si vous
     * provenez d'un autre établissement et votre niveau d'étude.". No box when omitted.
     */
    freeTextQuestion?: string
    /**
     * Simple question that applicants must answer before sending the form, in addition to the platform's
     * rate limits. Example: {question: "Combien font 23 et 3 ?", answer: "26"}.
     */
    antiSpam?: {
      /** The question, e.g. "Combien font 23 et 3 ?". */
      question: string
      /** Expected answer, compared ignoring case, accents and surrounding spaces, e.g. "26". */
      answer: string
    }
    /**
     * Link to the presentation brochure ("Télécharger la plaquette de présentation"), shown next to the
     * choices.
     */
    brochureUrl?: string
  }
  /**
   * Rules for family passwords. The default policy asks for 12 to 128 characters without composition
   * rules; the imuse rule keeps the rule families know from iMuse (at least 8 characters with an
   * uppercase letter, a lowercase letter and a digit). Passwords equal to the identifiant or found in a
   * list of common passwords are always refused. The maximum length can never be set below 64.
   */
  passwordPolicy: {
    /**
     * default: length only (12–128 characters unless changed below); imuse: at least 8 characters
     * including an uppercase letter, a lowercase letter and a digit.
     */
    rule: 'default' | 'imuse'
    /** Minimum length in characters, at least 8. When omitted: 12 with rule default, 8 with rule imuse. */
    minLength?: number
    /** Maximum length in characters, between 64 and 128 (long passphrases must stay possible). Example: 64. */
    maxLength: number
  }
  /** Lifetime of family and staff sessions. When omitted, the platform defaults apply. */
  sessions?: {
    /** A session expires after this many minutes without activity (5 to 1440). Example: 30. */
    idleMinutes?: number
    /** A session expires this many hours after login whatever the activity (1 to 720). Example: 12. */
    absoluteHours?: number
  }
  /**
   * How long a family's personal data is kept after it left (staff archived it). Past this period the
   * family is listed on the staff page Données personnelles (/admin/rgpd), where staff erase it: names,
   * addresses, phones, e-mails and files removed, statistics kept. When omitted: 3 years.
   */
  retention: {
    /** Whole years after the family was archived (1 to 10). Example: 3. */
    years: number
  }
  /**
   * How staff (admin, secretariat, direction) sign in at /admin/connexion: with their identifiant and
   * password, through the conservatoire's identity provider (OpenID Connect), or both. Families and
   * teachers always sign in with identifiant and password. When omitted, staff use the password form
   * only.
   */
  staffSignIn: {
    /**
     * false hides the identifiant and password form from /admin/connexion and refuses staff password
     * sign-ins, so staff sign in through the identity provider only (requires oidc). Families and teachers
     * are not affected.
     */
    password: boolean
    /**
     * The conservatoire's OpenID Connect identity provider (Keycloak, Microsoft Entra ID, Google
     * Workspace, a town's own directory…). /admin/connexion then offers "Se connecter avec <label>".
     * Register Tutti at the provider as a confidential web client using the authorization code flow, with
     * the redirect URI https://<the tenant's canonical host>/admin/connexion/oidc/retour. A staff member
     * signs in when the provider vouches for an e-mail address (email_verified true) that belongs to an
     * enabled staff account of this conservatoire, invited beforehand (or created on the spot, see
     * provisioning).
     */
    oidc?: {
      /**
       * Name of the provider as staff know it, shown on the button "Se connecter avec <label>". Example:
       * "Ville de Limonest".
       */
      label: string
      /**
       * The provider's issuer URL; its settings are read from <issuer>/.well-known/openid-configuration.
       * https only in production. Example: https://login.ville-limonest.fr/realms/agents.
       */
      issuer: `http${string}`
      /** The client id the provider gave Tutti for this conservatoire. Example: tutti-limonest. */
      clientId: string
      /**
       * Name of the environment variable that holds the client secret (never the secret itself: this file is
       * shown in the back-office). The Helm chart fills such variables from a Kubernetes Secret
       * (secrets.oidcClientSecrets in its values). When omitted, Tutti is a public client and authenticates
       * with PKCE only. Example: TUTTI_OIDC_LIMONEST_SECRET.
       */
      clientSecretEnv?: string
      /**
       * Scopes asked of the provider; must include openid. Add the scope that releases the groups claim when
       * roles are mapped (e.g. groups).
       */
      scopes: string[]
      /**
       * The ID token claim carrying the staff member's e-mail address, matched (without case) against the
       * e-mail of their Tutti account. Its companion email_verified must be true. Example: email (the
       * default); preferred_username or upn with some directories.
       */
      emailClaim: string
      /**
       * The ID token claim listing the person's groups (an array of strings, or one string). Used with
       * roles. Example: groups.
       */
      groupsClaim?: string
      /**
       * Which staff role each group of the provider gives. When set, the provider decides staff roles: at
       * each sign-in the account takes the highest role its groups give (admin, then direction, then
       * secretariat), and a person none of whose groups is listed is refused. Requires groupsClaim.
       */
      roles?: {
        /** A group name as the provider puts it in groupsClaim. Example: conservatoire-secretariat. */
        group: string
        /** The staff role the group gives. */
        role: 'secretariat' | 'direction' | 'admin'
      }[]
      /**
       * Whether a person the provider vouches for but who has no staff account here gets one on first
       * sign-in. Off by default: staff are invited beforehand (Comptes, Inviter) and matched by e-mail.
       */
      provisioning: {
        /** true creates the missing staff account at first sign-in (audited as account.provisioned). */
        enabled: boolean
        /**
         * Role of an account created this way when roles are not mapped from groups. Required when enabled is
         * true and roles is not set. Example: secretariat.
         */
        defaultRole?: 'secretariat' | 'direction' | 'admin'
      }
    }
  }
}

/** A colour as #RRGGBB, e.g. "#1d4f91". */
export type Color = `#${string}`

/** One site (antenne) of the conservatoire. */
export interface Establishment {
  /** Unique code of the site within the tenant. Example: "saint-junien". */
  code: string
  /** Name of the site as shown in the Site field. Example: "Conservatoire 1", "Site de Saint-Junien". */
  name: string
  /** Postal address of the site, several lines allowed. */
  address?: string
}

/** An opening window. */
export interface PeriodBounds {
  /**
   * First moment the procedure is open. A date alone means 00:00 that day. Example: "2025-05-15",
   * "2025-05-15T09:00", "today-30".
   */
  opens: string
  /**
   * Last moment the procedure is open. A date alone means 23:59 that day. Example: "2025-06-11" (shown
   * as "Jusqu'au 11/06/2025 à 23:59"), "today+45".
   */
  closes: string
}

/** The re-enrolment window and the school year pupils are re-enrolled for. */
export interface ReenrolmentPeriod {
  /**
   * First moment re-enrolment is open. A date alone means 00:00 that day. Example: "2025-05-15",
   * "today-30".
   */
  opens: string
  /**
   * Last moment re-enrolment is open. A date alone means 23:59 that day. Example: "2025-06-11",
   * "today+45".
   */
  closes: string
  /**
   * School year pupils are re-enrolled for, as "YYYY-YYYY" (two consecutive years). Example:
   * "2025-2026".
   */
  schoolYear: string
}

/**
 * A field of the responsable (guardian) form: civility, lastName, firstName, birthDate, birthPlace,
 * birthDepartment, address, postalCode, city, phoneHome (tél domicile), phoneMobile, phoneWork (tél
 * pro), email, familySituation (situation familiale), socioProfessionalCategory (code
 * socio-professionnel), profession, extraPhone1..3 (tél supplémentaire).
 */
export type GuardianField =
  | 'civility'
  | 'lastName'
  | 'firstName'
  | 'birthDate'
  | 'birthPlace'
  | 'birthDepartment'
  | 'address'
  | 'postalCode'
  | 'city'
  | 'phoneHome'
  | 'phoneMobile'
  | 'phoneWork'
  | 'email'
  | 'familySituation'
  | 'socioProfessionalCategory'
  | 'profession'
  | 'extraPhone1'
  | 'extraPhone2'
  | 'extraPhone3'

/**
 * A field of the élève (pupil) form: civility, lastName, firstName, birthDate, birthPlace,
 * birthDepartment, address, postalCode, city, phoneHome, phoneMobile, email, schoolLevel (niveau
 * scolaire), school (établissement scolaire), imageRights (droit à l'image), exitAuthorization
 * (autorisation de sortie), emergencyContact (personne à prévenir), emergencyPhone (tél urgence).
 */
export type PupilField =
  | 'civility'
  | 'lastName'
  | 'firstName'
  | 'birthDate'
  | 'birthPlace'
  | 'birthDepartment'
  | 'address'
  | 'postalCode'
  | 'city'
  | 'phoneHome'
  | 'phoneMobile'
  | 'email'
  | 'schoolLevel'
  | 'school'
  | 'imageRights'
  | 'exitAuthorization'
  | 'emergencyContact'
  | 'emergencyPhone'

/** A re-enrolment step: coordinates, authorizations, documents, courses, summary or finalize. */
export type Step = 'coordinates' | 'authorizations' | 'documents' | 'courses' | 'summary' | 'finalize'

/** An extra yes/no question of the re-enrolment. */
export interface Question {
  /**
   * Identifier of the question, unique within the tenant; conditions read the answer as
   * pupil.answers.<id>. Example: "pedibus".
   */
  id: string
  /**
   * The question as shown next to the Oui/Non choice. Example: "Je souhaite faire une demande de Pédibus
   * (les demandes seront étudiées)".
   */
  label: string
  /** Optional explanation shown under the question. */
  help?: string
  /**
   * Asked only of pupils who follow one of these disciplines this year (codes of disciplines); every
   * pupil is asked when omitted. Example (Limonest's Réinscription administrative after the Découverte
   * instrumentale): [decouverte-instrumentale].
   */
  disciplines?: string[]
}

/** One document to provide (pièce à fournir). */
export interface RequiredDocument {
  /**
   * Identifier of the document, unique within the tenant. Never reuse an id for a different document:
   * uploaded files refer to it. Example: "mandat-sepa".
   */
  id: string
  /** Name of the document as shown in the list. Example: "Attestation de responsabilité civile". */
  label: string
  /**
   * Optional explanation (where to find the form, what it must contain). Example: "Le mandat est à
   * télécharger sur notre site (documents utiles)."
   */
  help?: string
  /**
   * family: one document for the whole family (mandat SEPA, justificatif de domicile, attestation QF);
   * pupil: one per pupil (responsabilité civile, certificat médical). A family-level document can only
   * use family.* facts in its condition.
   */
  level: 'family' | 'pupil'
  /**
   * Condition under which the document is required; always required when omitted. Example: {fact:
   * family.paymentMode, equals: prelevement}. See config/README.md.
   */
  when?: Condition
  /**
   * Accepted file types, checked on the file content: pdf, jpeg, png. Example: [pdf] when only PDF is
   * accepted.
   */
  accept: DocumentType[]
  /** Maximum file size in megabytes (MB), up to 20. Example: 2. */
  maxSizeMb: number
  /**
   * How long a validated upload stays valid: schoolYear (asked again every school year), forever (asked
   * once, e.g. a SEPA mandate), or {until: "YYYY-MM-DD"} (valid until that date).
   */
  validity:
    | 'schoolYear'
    | 'forever'
    | {
        /** Last day of validity, "YYYY-MM-DD". Example: "2026-08-31". */
        until: string
      }
  /**
   * true when the document is no longer asked: families who provided it keep it, staff still see and
   * review it, but nobody is asked for it any more. A document that families have already provided
   * cannot be removed from the configuration, only archived.
   */
  archived: boolean
}

/**
 * A rule deciding when something applies. Exactly one of: {all: [conditions]} (every one true), {any:
 * [conditions]} (at least one true), {not: condition}, or a test {fact: <fact>, equals: value} /
 * {fact: <fact>, in: [values]} / {fact: <fact>, includesAny: [values]}. Examples: {fact:
 * family.resident, equals: true}; {fact: pupil.disciplines, includesAny: [danse-enfant,
 * danse-adulte]}.
 */
export type Condition =
  | {
      /** True when every listed condition is true. */
      all: Condition[]
    }
  | {
      /** True when at least one listed condition is true. */
      any: Condition[]
    }
  | {
      /** True when the nested condition is false. */
      not: Condition
    }
  | {
      /**
       * The fact tested: family.resident, family.paymentMode, pupil.minor, pupil.disciplines or
       * pupil.answers.<question id>.
       */
      fact: Fact
      /**
       * True when the fact equals this value: true/false for family.resident, pupil.minor and
       * pupil.answers.<id>; a payment mode id for family.paymentMode.
       */
      equals: string | boolean | number
    }
  | {
      /**
       * The fact tested: family.resident, family.paymentMode, pupil.minor, pupil.disciplines or
       * pupil.answers.<question id>.
       */
      fact: Fact
      /**
       * True when the fact is one of these values. Example: {fact: family.paymentMode, in: [cheque,
       * especes]}.
       */
      in: string[]
    }
  | {
      /**
       * The fact tested: family.resident, family.paymentMode, pupil.minor, pupil.disciplines or
       * pupil.answers.<question id>.
       */
      fact: Fact
      /**
       * For the list-valued fact pupil.disciplines: true when the list contains at least one of these
       * values. Example: [danse, cardio-danse].
       */
      includesAny: string[]
    }

/**
 * A fact a condition can test: family.resident (boolean: the family lives in the territory),
 * family.paymentMode (string: id of the chosen payment mode), pupil.minor (boolean), pupil.disciplines
 * (list of the codes of the disciplines the pupil is enrolled in), pupil.answers.<id> (boolean: answer
 * to the re-enrolment question <id>).
 */
export type Fact =
  | 'family.resident'
  | 'family.paymentMode'
  | 'pupil.minor'
  | 'pupil.disciplines'
  | `pupil.answers.${string}`

/** A file type: pdf, jpeg (.jpg/.jpeg) or png. */
export type DocumentType = 'pdf' | 'jpeg' | 'png'

/** One payment mode offered to families. */
export interface PaymentMode {
  /**
   * Identifier of the mode, unique within the tenant, used by conditions (family.paymentMode). Example:
   * "prelevement".
   */
  id: string
  /** Name shown to families. Example: "Prélèvement automatique en 9 fois". */
  label: string
  /**
   * Kind of payment: directDebit (prélèvement SEPA), payfip (PayFiP / Trésor public online payment),
   * cheque, holidayVouchers (chèques vacances), localPass (a town's culture pass), cash, card, transfer
   * (virement), other.
   */
  kind:
    | 'directDebit'
    | 'payfip'
    | 'cheque'
    | 'holidayVouchers'
    | 'localPass'
    | 'cash'
    | 'card'
    | 'transfer'
    | 'other'
  /** Number of instalments (échéances) when the fee is split. Example: 9 for "prélèvement en 9 fois". */
  instalments?: number
  /**
   * Optional explanation (when payments happen, what to send). Example: "9 prélèvements en début de mois
   * à partir de novembre."
   */
  help?: string
}

/** One quotient familial bracket. */
export interface Bracket {
  /** Code of the bracket, unique within the tenant. Example: "Q1", "T11". */
  code: string
  /** Name shown to families and staff. Example: "Q1 — QF jusqu'à 400 €". */
  label: string
  /** Upper bound of the bracket in euros (inclusive). Omit it on the last bracket. Example: 400. */
  max?: number
}

/** One category of tuition (what a pupil learns, priced as one yearly amount). */
export interface TariffCategory {
  /** Code of the category, unique within the tenant. Example: "cursus-complet". */
  code: string
  /**
   * Name shown to families on the simulator and the invoices. Example: "Cursus complet (instrument,
   * formation musicale, pratique collective)".
   */
  label: string
  /** Disciplines the pupil must all take for this category to apply. Example: [formation-musicale]. */
  includesAll?: string[]
  /**
   * Disciplines of which the pupil must take at least one for this category to apply. Example: [piano,
   * violon, clarinette].
   */
  includesAny?: string[]
  /**
   * Disciplines this category also takes, at no extra cost, when the pupil has them. Example:
   * [orchestre, chorale] for a cursus complet that includes the collective practice.
   */
  covers?: string[]
  /**
   * Yearly amount in euros by column: one key per quotient familial bracket code (or `resident` when the
   * tenant has no quotientFamilial), and `nonResident` for families living outside the territory.
   * Example: {Q1: 95, Q2: 130, …, Q7: 420, nonResident: 640}.
   */
  amounts: Record<string, number>
}

/** A fixed fee added once per family or once per pupil, never prorated nor reduced. */
export interface TariffFee {
  /** Code of the fee, unique within the tenant. Example: "adhesion". */
  code: string
  /** Name shown to families. Example: "Adhésion annuelle". */
  label: string
  /** Amount in euros. Example: 15. */
  amount: number
  /** family (once per family) or pupil (once per pupil). */
  per: 'family' | 'pupil'
}

/** An item families can rent for the year (an instrument, a room, equipment). */
export interface Rental {
  /** Code of the item, unique within the tenant. Example: "violon-3-4". */
  code: string
  /** Name shown to families. Example: "Violon 3/4". */
  label: string
  /** Yearly rental price in euros, prorated like tuition. Example: 90. */
  yearly: number
  /**
   * Deposit (caution) in euros, asked once on the first invoice of a rental and credited back when the
   * item is returned (docs/decisions.md, "Rentals"); not part of the yearly price. Example: 150.
   */
  deposit?: number
}

/**
 * Online payment through PayFiP (DGFiP). With it, an unpaid invoice on a family's Facturation page
 * shows "Payer en ligne": Tutti sends the family to https://www.payfip.gouv.fr/tpa/paiement.web with
 * the invoice's reference (refdet) and what remains to pay; back from PayFiP the invoice shows
 * "Paiement en cours de confirmation" until staff import the treasury's statement
 * (/admin/facturation/tresor) or confirm the payment. Without this key there is no online payment.
 * Example: {clientNumber: "012345", mode: production}.
 */
export interface Payfip {
  /**
   * The PayFiP client number (numcli) the DGFiP gave the collectivity when it joined PayFiP: 6 digits,
   * quoted in YAML so that leading zeros stay. Example: "012345".
   */
  clientNumber: string
  /**
   * test while the collectivity's PayFiP access is being activated (PayFiP simulates the card payment,
   * saisie=T, no money moves); production once the DGFiP has opened it (saisie=W, real payments).
   */
  mode: 'test' | 'production'
}

/** One discipline taught. */
export interface Discipline {
  /**
   * Code of the discipline, unique within the tenant, used in conditions and pré-inscription. Example:
   * "danse-enfant".
   */
  code: string
  /** Name shown to families. Example: "Danse enfant". */
  name: string
  /** Domain of the discipline: music, dance or theatre. */
  domain: 'music' | 'dance' | 'theatre'
}
